package analyzer

import "testing"

func TestUnpackLimits(t *testing.T) {
	for _, tt := range []struct {
		size, want int64
	}{
		{1 << 10, minUnpack},  // tiny input: the floor
		{1 << 20, 1000 << 20}, // 1 MiB may unpack to 1000 MiB
		{64 << 30, 16 << 30},  // huge input: extract's own cap
		{0, 16 << 30},         // unknown size: extract's own cap
	} {
		if got := unpackLimits(tt.size, Limits{}).MaxBytes; got != tt.want {
			t.Errorf("unpackLimits(%d).MaxBytes = %d, want %d", tt.size, got, tt.want)
		}
	}
	l := unpackLimits(1<<20, Limits{MaxBytes: 5, MaxEntries: 6, MaxFileBytes: 7, MaxDepth: 2, MaxRatio: 10})
	if l.MaxBytes != 5 || l.MaxEntries != 6 || l.MaxFileBytes != 7 || l.Depth() != 2 || l.Ratio() != 10 {
		t.Errorf("configured limits not applied: %+v", l)
	}
	if got := unpackLimits(1<<20, Limits{MaxRatio: 100}).MaxBytes; got != 100<<20 {
		t.Errorf("ratio 100 on 1 MiB = %d", got)
	}
}
