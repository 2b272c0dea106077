package fscan

import (
	"context"
	"os"
	"testing"
)

// BenchmarkScanTree is the content scan alone (walk, matcher, binary
// metadata, rule evaluation) over a real directory: OEMTRACE_BENCH_DIR, or
// /usr/lib/x86_64-linux-gnu. Run with -cpu 1 for the per-core figure that
// scripts/bench-tree.sh sets beside ripgrep and yara.
func BenchmarkScanTree(b *testing.B) {
	dir := os.Getenv("OEMTRACE_BENCH_DIR")
	if dir == "" {
		dir = "/usr/lib/x86_64-linux-gnu"
	}
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("no corpus directory: %v", err)
	}
	s := newScanner(b)
	res, err := s.ScanTree(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.ScanTree(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
}
