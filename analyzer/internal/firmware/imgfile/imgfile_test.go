package imgfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// strict is a Content that holds File to its side of the contract: it
// fails when called concurrently, out of the file's bounds, or empty, and
// at offset bad.
type strict struct {
	data []byte
	bad  int64
	busy atomic.Bool
}

func (c *strict) ReadAt(p []byte, off int64) (int, error) {
	if !c.busy.CompareAndSwap(false, true) {
		return 0, errors.New("concurrent ReadAt")
	}
	defer c.busy.Store(false)
	end := off + int64(len(p))
	switch {
	case off < 0 || len(p) == 0 || end > int64(len(c.data)):
		return 0, fmt.Errorf("ReadAt(%d bytes, %d) outside the file", len(p), off)
	case off <= c.bad && c.bad < end:
		n := copy(p, c.data[off:c.bad])
		return n, errors.New("damaged")
	}
	return copy(p, c.data[off:]), nil
}

// oneFile is a file system holding one file, "f", of the bytes given,
// with a damaged byte at bad (or none, when bad is negative).
type oneFile struct {
	data []byte
	bad  int64
}

func (o oneFile) Open(name string) (fs.File, error) {
	info, err := fs.Stat(fstest.MapFS{"f": {Data: o.data}}, name)
	if err != nil {
		return nil, err
	}
	return imgfile.New(name, info, int64(len(o.data)), &strict{data: o.data, bad: o.bad}), nil
}

func TestFile(t *testing.T) {
	data := make([]byte, 3*4096+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	imgtest.CheckRandomAccess(t, oneFile{data: data, bad: -1}, "f", imgtest.Boundaries(4096, int64(len(data))))

	f, _ := oneFile{data: data, bad: 5000}.Open("f")
	buf := make([]byte, 100)
	n, err := f.(io.ReaderAt).ReadAt(buf, 4950)
	var pe *fs.PathError
	if n != 50 || !errors.As(err, &pe) || pe.Op != "read" || pe.Path != "f" || pe.Err.Error() != "damaged" {
		t.Errorf("ReadAt across a damaged byte: %d, %v", n, err)
	}
}

func TestEmptyFile(t *testing.T) {
	f := imgfile.New("dev/null", nil, 0, nil)
	if n, err := f.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read = %d, %v; want io.EOF", n, err)
	}
	if pos, err := f.Seek(10, io.SeekEnd); pos != 10 || err != nil {
		t.Errorf("Seek = %d, %v", pos, err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

func TestDir(t *testing.T) {
	entries, _ := fs.ReadDir(fstest.MapFS{"a": {}, "b": {}, "c": {}}, ".")
	d := imgfile.NewDir("etc", nil, entries)
	if _, err := d.Read(nil); err == nil {
		t.Error("Read of a directory succeeded")
	}
	var got []string
	for {
		ents, err := d.ReadDir(2)
		for _, e := range ents {
			got = append(got, e.Name())
		}
		if err == io.EOF {
			break
		}
		if err != nil || len(ents) == 0 {
			t.Fatalf("ReadDir: %v, %v", ents, err)
		}
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Errorf("entries %v", got)
	}
}

func TestReadFull(t *testing.T) {
	r := bytes.NewReader([]byte("0123456789"))
	p := make([]byte, 4)
	if err := imgfile.ReadFull(r, p, 6); err != nil || string(p) != "6789" {
		t.Errorf("read to the end: %q, %v", p, err)
	}
	if err := imgfile.ReadFull(r, p, 8); err != io.ErrUnexpectedEOF {
		t.Errorf("short read: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestDirNames(t *testing.T) {
	d := imgfile.DirNames[int]{}
	if err := d.Claim(7, "a"); err != nil {
		t.Fatal(err)
	}
	if err := d.Claim(8, "b"); err != nil {
		t.Fatal(err)
	}
	if err := d.Claim(7, "c"); err == nil || err.Error() != `"a" and "c" name one directory` {
		t.Errorf("second name for one directory: %v", err)
	}
}
