package firmware

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func smallLimits() extract.Limits {
	return extract.Limits{MaxBytes: 1 << 20, MaxEntries: 1000, MaxFileBytes: 1 << 20}
}

// TestTruncated cuts every fixture at several offsets: no panic, nothing
// outside dst, and an error or gaps rather than silence when data is lost.
func TestTruncated(t *testing.T) {
	files, _ := filepath.Glob("testdata/*[^h]") // everything but make.sh
	for _, f := range files {
		full, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []int{1, 7, 30, 64, 100, 200, len(full) / 3, len(full) / 2, len(full) - 10} {
			if cut <= 0 || cut >= len(full) {
				continue
			}
			p := writeTemp(t, full[:cut])
			_, _, gaps, err := unpackInto(t, p, smallLimits())
			if err == nil && len(gaps) == 0 && Detect(full[:cut]) != "" {
				// A cut that only removes padding is fine; report for review.
				t.Logf("%s cut at %d: no error and no gap", f, cut)
			}
		}
	}
}

func TestCorruptSuperblock(t *testing.T) {
	b, _ := os.ReadFile("testdata/rootfs-gzip.sqfs")
	b[12], b[13], b[14], b[15] = 0x01, 0x02, 0, 0 // block size
	_, _, _, err := unpackInto(t, writeTemp(t, b), smallLimits())
	if err == nil || !strings.Contains(err.Error(), "squashfs at 0x0: bad superblock") {
		t.Errorf("err = %v", err)
	}
	b, _ = os.ReadFile("testdata/rootfs-gzip.sqfs")
	for i := 32; i < 96; i++ { // table offsets
		b[i] = 0xff
	}
	_, _, _, err = unpackInto(t, writeTemp(t, b), smallLimits())
	if err == nil || !strings.Contains(err.Error(), "squashfs at 0x0") {
		t.Errorf("err = %v", err)
	}
}

// newcEntry builds one newc cpio entry.
func newcEntry(name string, mode uint32, data []byte, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		1, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	b.WriteString(name)
	b.WriteByte(0)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	b.Write(data)
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func TestCpioHostileNames(t *testing.T) {
	var a []byte
	a = append(a, newcEntry("../escape", 0o100644, []byte("x"), 1)...)
	a = append(a, newcEntry("/abs/file", 0o100644, []byte("abs"), 3)...)
	a = append(a, newcEntry("a/../../up", 0o100644, []byte("y"), 1)...)
	a = append(a, newcEntry("link", 0o120777, []byte("/etc"), 4)...)
	a = append(a, newcEntry("link/through", 0o100644, []byte("z"), 1)...)
	a = append(a, newcEntry("dev/null", 0o020666, nil, 0)...)
	a = append(a, newcEntry(cpioTrailer, 0, nil, 0)...)
	dst, layers, gaps, err := unpackInto(t, writeTemp(t, a), smallLimits())
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dst, "abs/file")); got != "abs" {
		t.Errorf("abs/file = %q", got)
	}
	if len(layers) != 1 || !hasGap(gaps, "unsafe entry name") || hasGap(gaps, "special file") {
		t.Errorf("layers %v gaps %v", layers, gaps)
	}
	if _, err := os.Stat("/etc/through"); err == nil {
		t.Error("wrote through a symlink")
	}
}

func TestCpioHugeDeclaredSize(t *testing.T) {
	a := newcEntry("big", 0o100644, []byte("short"), 0xfffffff0)
	_, _, gaps, err := unpackInto(t, writeTemp(t, a), smallLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) == 0 {
		t.Error("no gap for a huge declared size")
	}
	t.Log(gaps)
}

// TestGzipBomb unpacks 8 GiB of zeros (an 8 MiB gzip stream built by
// repeating one flushed deflate chunk): it must stop at the limit quickly.
func TestGzipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zeros := make([]byte, 1<<20)
	zw.Write(zeros)
	zw.Flush()
	first := append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	zw.Write(zeros)
	zw.Flush()
	chunk := buf.Bytes()
	p := filepath.Join(t.TempDir(), "bomb.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(first)
	for range 8<<10 - 1 {
		f.Write(chunk)
	}
	f.Close()
	start := time.Now()
	lim := extract.Limits{MaxBytes: 64 << 20, MaxEntries: 100, MaxFileBytes: 1 << 30}
	dst, layers, gaps, err := unpackInto(t, p, lim)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	if !hasGap(gaps, "limit") {
		t.Errorf("no limit gap: %v", gaps)
	}
	t.Log(layers, gaps)
	var total int64
	filepath.Walk(dst, func(_ string, fi os.FileInfo, _ error) error {
		if fi != nil && fi.Mode().IsRegular() {
			total += fi.Size()
		}
		return nil
	})
	if total > lim.MaxBytes {
		t.Errorf("wrote %d bytes", total)
	}
}

func TestNestedTooDeep(t *testing.T) {
	data, _ := os.ReadFile("testdata/initrd-newc.cpio")
	for range 10 {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(data)
		zw.Close()
		data = b.Bytes()
	}
	_, layers, gaps, err := unpackInto(t, writeTemp(t, data), smallLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != extract.DefaultMaxDepth || !hasGap(gaps, "nested deeper") {
		t.Errorf("layers %v gaps %v", layers, gaps)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dst := t.TempDir()
	_, err := Unpack(ctx, "testdata/initrd.cpio.gz", dst, smallLimits())
	if err == nil {
		t.Error("no error for a cancelled context")
	}
}

func TestUnknown(t *testing.T) {
	_, _, _, err := unpackInto(t, "testdata/make.sh", smallLimits())
	if err == nil || !strings.Contains(err.Error(), "not a recognised") {
		t.Errorf("err = %v", err)
	}
}
