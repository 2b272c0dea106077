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
		if got := unpackLimits(tt.size).MaxBytes; got != tt.want {
			t.Errorf("unpackLimits(%d).MaxBytes = %d, want %d", tt.size, got, tt.want)
		}
	}
}
