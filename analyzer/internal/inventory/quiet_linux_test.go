package inventory

import (
	"context"
	"io"
	"os"
	"syscall"
	"testing"
)

// TestCatalogIsQuiet checks that cataloging writes nothing to the process's
// standard output or standard error, at the file descriptor level.
func TestCatalogIsQuiet(t *testing.T) {
	probe, err := captureFDs(t, func() { syscall.Write(2, []byte("probe")) })
	if err != nil || string(probe) != "probe" {
		t.Fatalf("the capture does not work: %q, %v", probe, err)
	}
	root := extractFixtures(t, "base.tar.gz", "webui.tar.gz")
	out, err := captureFDs(t, func() {
		if _, err := Catalog(context.Background(), root, Options{}); err != nil {
			t.Error(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Errorf("Catalog wrote %d bytes to stdout/stderr: %q", len(out), out)
	}
}

// captureFDs runs f with file descriptors 1 and 2 redirected to a pipe and
// returns what was written to them.
func captureFDs(t *testing.T, f func()) ([]byte, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	saved := [2]int{}
	for i, fd := range []int{1, 2} {
		if saved[i], err = syscall.Dup(fd); err != nil {
			return nil, err
		}
		if err := syscall.Dup3(int(w.Fd()), fd, 0); err != nil {
			return nil, err
		}
	}
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		done <- b
	}()
	f()
	for i, fd := range []int{1, 2} {
		if err := syscall.Dup3(saved[i], fd, 0); err != nil {
			t.Fatalf("restoring fd %d: %v", fd, err)
		}
		syscall.Close(saved[i])
	}
	w.Close()
	out := <-done
	r.Close()
	return out, nil
}
