package analyzer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

// fifo makes a named pipe and writes data into it from a goroutine, as a
// shell's process substitution (<(cmd)) does; nil data writes nothing and
// never opens the pipe.
func fifo(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	if data != nil {
		go func() {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			f.Write(data)
			f.Close()
		}()
	}
	return p
}

// analyzeWithin runs Analyze on one input and fails the test if it takes
// more than a minute, rather than hanging the suite.
func analyzeWithin(t *testing.T, in analyzer.Input) (verdict string, err error) {
	t.Helper()
	type result struct {
		verdict string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		r, err := analyzer.Analyze(context.Background(), []analyzer.Input{in}, analyzer.Config{Now: fixed})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{verdict: string(r.Verdict)}
	}()
	select {
	case r := <-done:
		return r.verdict, r.err
	case <-time.After(time.Minute):
		t.Fatal("Analyze did not return within a minute")
	}
	return "", nil
}

// TestPipeInput scans a firmware image and an SBOM read from named
// pipes: read once, as standard input is, with the same verdicts as the
// files. A truncated image over a pipe is named after the pipe in the
// error, not after the private copy it was read into.
func TestPipeInput(t *testing.T) {
	root := testutil.RepoRoot(t)
	for _, c := range []struct{ file, verdict string }{
		{"fixtures/firmware/tainted.cpio.gz", "tainted"},
		{"fixtures/firmware/clean.cpio.gz", "clean"},
		{"fixtures/firmware/tainted.flash.bin", "tainted"},
	} {
		data, err := os.ReadFile(filepath.Join(root, c.file))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := analyzeWithin(t, analyzer.FileInput(fifo(t, data))); err != nil || got != c.verdict {
			t.Errorf("%s through a pipe: verdict %q, %v; want %s", c.file, got, err, c.verdict)
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "fixtures/firmware/tainted.sqfs"))
	if err != nil {
		t.Fatal(err)
	}
	// A squashfs cut before its tables cannot be read at all.
	p := fifo(t, data[:len(data)/2])
	_, err = analyzeWithin(t, analyzer.FileInput(p))
	if err == nil || strings.Contains(err.Error(), "oemtrace-spool") || !strings.Contains(err.Error(), p) {
		t.Errorf("truncated image through a pipe: error %v, want one naming %s", err, p)
	}
}

// TestPipeWithoutWriter checks that a named pipe nobody writes to is
// waited for, as any reader of a pipe waits, but only until the time
// limit: the run then ends incomplete instead of hanging.
func TestPipeWithoutWriter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := analyzer.Analyze(ctx, []analyzer.Input{analyzer.FileInput(fifo(t, nil))}, analyzer.Config{Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != report.Incomplete || len(rep.Gaps) != 1 || !strings.Contains(rep.Gaps[0].Reason, "time limit") {
		t.Errorf("verdict %s, gaps %+v; want incomplete for the time limit", rep.Verdict, rep.Gaps)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestCharacterDeviceRefused checks that a character device (an endless
// /dev/zero, a terminal) is refused by its type before anything is read.
func TestCharacterDeviceRefused(t *testing.T) {
	if fi, err := os.Stat("/dev/zero"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skip("no /dev/zero character device here")
	}
	_, err := analyzeWithin(t, analyzer.FileInput("/dev/zero"))
	if !errors.Is(err, analyzer.ErrUnknownKind) || !strings.Contains(err.Error(), "character device") {
		t.Fatalf("error = %v, want a refused character device", err)
	}
}
