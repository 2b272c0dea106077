package sqfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/internal/testutil"
	"github.com/ulikunitz/xz"
)

// xzData is 3 MB of text with numbers and a run of random bytes (stored
// as uncompressed LZMA2 chunks), so that a small dictionary slides many
// times.
func xzData() []byte {
	var b bytes.Buffer
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "%08d netwarden update line %x %s\n", i, r.Uint32(), []string{"ok", "retry", "fail"}[r.IntN(3)])
		if i == 20000 {
			noise := make([]byte, 200<<10)
			for j := range noise {
				noise[j] = byte(r.Uint32())
			}
			b.Write(noise)
		}
	}
	return b.Bytes()
}

// xzCompress runs the real xz with args over data.
func xzCompress(t *testing.T, data []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(testutil.Tool(t, "xz"), append([]string{"-c", "-T1"}, args...)...)
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xz %v: %v", args, err)
	}
	return out
}

// TestXZReader decodes streams that the real xz wrote with every check
// type, several presets, small dictionaries (the window slides), unusual
// literal and position contexts, and many blocks.
func TestXZReader(t *testing.T) {
	data := xzData()
	for _, args := range [][]string{
		{"-6"},
		{"-0"},
		{"-1", "--check=crc32"},
		{"-1", "--check=sha256"},
		{"-1", "--check=none"},
		{"--lzma2=dict=4KiB"},
		{"--lzma2=dict=64KiB,lc=0,lp=2,pb=2"},
		{"--lzma2=dict=64KiB,lc=4,lp=0,pb=4"},
		{"-1", "--block-size=300KiB"},
	} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			stream := xzCompress(t, data, args...)
			// What follows the stream is not read as part of it.
			r, err := NewXZReader(bytes.NewReader(append(stream, "trailing bytes"...)), 64<<20)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("%d bytes, %v; want %d bytes", len(got), err, len(data))
			}
		})
	}
}

// TestXZReaderRefuses checks damaged streams, a dictionary over the limit,
// and a BCJ stream, which is handed back whole.
func TestXZReaderRefuses(t *testing.T) {
	data := xzData()[:1<<20]
	stream := xzCompress(t, data, "-1")
	decode := func(b []byte, maxDict int64) error {
		r, err := NewXZReader(bytes.NewReader(b), maxDict)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(r)
		return err
	}
	if err := decode(stream[:len(stream)-40], 64<<20); err == nil {
		t.Error("truncated stream decoded")
	}
	flipped := bytes.Clone(stream)
	flipped[len(flipped)/2] ^= 0x10
	if err := decode(flipped, 64<<20); err == nil {
		t.Error("damaged stream decoded")
	}
	// The block's CRC64 lies just before the index, whose size the
	// footer gives.
	badCheck := bytes.Clone(stream)
	footer := badCheck[len(badCheck)-12:]
	index := int(binary.LittleEndian.Uint32(footer[4:8])+1) * 4
	badCheck[len(badCheck)-12-index-8] ^= 1
	if err := decode(badCheck, 64<<20); err == nil || !strings.Contains(err.Error(), "check mismatch") {
		t.Errorf("wrong check: %v", err)
	}
	if err := decode(xzCompress(t, data, "-6"), 1<<20); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("an 8 MiB dictionary with a 1 MiB limit: %v", err)
	}
	bcj := xzCompress(t, data, "--x86", "--lzma2=preset=1")
	r, err := NewXZReader(bytes.NewReader(bcj), 64<<20)
	if !errors.Is(err, ErrXZFilters) {
		t.Fatalf("BCJ stream: %v, want ErrXZFilters", err)
	}
	replay, _ := io.ReadAll(r)
	if !bytes.Equal(replay, bcj) {
		t.Error("the refused stream is not replayed whole")
	}
}

// FuzzXZReader compares NewXZReader with ulikunitz/xz on arbitrary
// streams: what the reference decodes, NewXZReader decodes the same or
// stops early with an error, and it never panics or hangs.
func FuzzXZReader(f *testing.F) {
	for _, s := range samples()[:6] {
		var b bytes.Buffer
		w, err := xz.WriterConfig{DictCap: 4096, CheckSum: xz.CRC32}.NewWriter(&b)
		if err != nil {
			f.Fatal(err)
		}
		w.Write(s[:min(len(s), 20000)])
		w.Close()
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const room = 1 << 20
		r, err := NewXZReader(bytes.NewReader(b), 1<<20)
		var got []byte
		if err == nil {
			got, err = io.ReadAll(io.LimitReader(r, room))
		}
		ref, err2 := xz.ReaderConfig{DictCap: 1 << 20, SingleStream: true}.NewReader(bytes.NewReader(b))
		if err2 != nil {
			return
		}
		want, err2 := io.ReadAll(io.LimitReader(ref, room))
		if err2 != nil || errors.Is(err, ErrXZFilters) {
			return
		}
		// NewXZReader is stricter on framing (a stream without its index
		// is truncated): an error may cut its output short, never change it.
		if (err == nil && !bytes.Equal(got, want)) || !bytes.HasPrefix(want, got) {
			t.Fatalf("reference decodes %d bytes; NewXZReader %d bytes, %v", len(want), len(got), err)
		}
	})
}
