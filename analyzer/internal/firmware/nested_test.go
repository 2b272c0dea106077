package firmware

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
)

// TestNestedFile checks which files of a tree are opened as containers:
// those with strong signatures, and compression streams only when what
// they hold is a container.
func TestNestedFile(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	tw.WriteHeader(&tar.Header{Name: "a", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	for _, c := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"tar", tarBuf.Bytes(), true},
		{"tar.gz", gz(tarBuf.Bytes()), true},
		{"gzip'd changelog", gz([]byte("pkg (1.0) stable; urgency=low\n")), false},
		{"gzip'd kernel module", gz([]byte("\x7fELF\x02\x01\x01\x00")), true},
		{"gzip'd binary data", gz([]byte("KLZF\x00\x01\x02")), true},
		{"truncated gzip", gz(bytes.Repeat(tarBuf.Bytes(), 4))[:40], true},
		{"deb", []byte("!<arch>\ndebian-binary   1577836800  0     0     100644  4         `\n2.0\n"), true},
		{"static library", []byte("!<arch>\n/               1577836800  0     0     0       4         `\n\x00\x00\x00\x00"), false},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"), true},
		{"text", []byte("hello\n"), false},
	} {
		if got := NestedFile(c.b, bytes.NewReader(c.b)); got != c.want {
			t.Errorf("%s: NestedFile = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCompressedText checks what a compressed document yields: its text,
// cut at the limit with More set, or what came before a break with Err;
// the same whether the file is decoded whole (a reader that knows its
// size) or as a stream.
func TestCompressedText(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	text := bytes.Repeat([]byte("UpdateSource=https://example.net/\n"), 1000)
	zw.Write(text)
	zw.Close()
	gz := buf.Bytes()
	for _, c := range []struct {
		name     string
		data     []byte
		max      int64
		wantLen  int
		wantMore bool
		wantErr  bool
	}{
		{"whole", gz, 1 << 20, len(text), false, false},
		{"cut at the limit", gz, 5000, 5000, true, false},
		{"limit exactly the size", gz, int64(len(text)), len(text), false, false},
		{"truncated stream", gz[:len(gz)-100], 1 << 20, -1, false, true},
		{"two members", append(bytes.Clone(gz), gz...), 1 << 20, len(text), false, false},
		{"bytes after the member", append(bytes.Clone(gz), "trailer"...), 1 << 20, len(text), false, false},
	} {
		for _, r := range []io.Reader{bytes.NewReader(c.data), io.MultiReader(bytes.NewReader(c.data))} {
			got := CompressedText(c.data, r, c.max)
			switch {
			case got == nil:
				t.Errorf("%s (%T): taken for a container", c.name, r)
			case got.Format != "gzip" || got.More != c.wantMore || (got.Err != nil) != c.wantErr:
				t.Errorf("%s (%T): format %q, more %v, err %v", c.name, r, got.Format, got.More, got.Err)
			case c.wantLen >= 0 && len(got.Data) != c.wantLen:
				t.Errorf("%s (%T): %d bytes, want %d", c.name, r, len(got.Data), c.wantLen)
			case !bytes.HasPrefix(text, got.Data):
				t.Errorf("%s (%T): data is not the text's start", c.name, r)
			}
		}
	}
	// A gzip'd binary is a container either way.
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	zw.Write([]byte("\x7fELF\x02\x01\x01\x00 a kernel module"))
	zw.Close()
	for _, r := range []io.Reader{bytes.NewReader(buf.Bytes()), io.MultiReader(bytes.NewReader(buf.Bytes()))} {
		if got := CompressedText(buf.Bytes(), r, 1<<20); got != nil {
			t.Errorf("%T: a gzip'd ELF file taken for a document", r)
		}
	}
}
