package firmware

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// flashDump lays fixture images out at unaligned offsets between
// pseudo-random "bootloader" bytes, erased (0xff) flash and decoy magics,
// the way a raw dump of an appliance's flash chip looks.
func flashDump(t *testing.T) (dump []byte, offs map[string]int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	junk := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var b bytes.Buffer
	offs = map[string]int64{}
	put := func(name string) {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		offs[name] = int64(b.Len())
		b.Write(data)
	}
	b.Write(junk(0x1003))
	// Decoys: magics with nothing valid behind them.
	b.WriteString("hsqs")
	b.Write(junk(200))
	b.Write([]byte{0x1f, 0x8b, 0x08, 0x00})
	b.Write(junk(100))
	b.WriteString("070701zzzz")
	b.Write(junk(77))
	put("uinitrd.img")
	b.Write(bytes.Repeat([]byte{0xff}, 0x2001))
	put("rootfs-gzip.sqfs")
	b.Write(junk(333))
	put("rootfs-ext4.img")
	b.Write(junk(5))
	return b.Bytes(), offs
}

func TestCarveFlashDump(t *testing.T) {
	dump, offs := flashDump(t)
	p := writeTemp(t, dump)
	dst := t.TempDir()
	res, err := Unpack(context.Background(), p, dst, extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) > 0 {
		t.Errorf("gaps: %v", res.Gaps)
	}
	want := map[string][]Layer{
		"uinitrd.img":      {{"uimage", offs["uinitrd.img"]}, {"gzip", offs["uinitrd.img"] + 64}, {"cpio", 0}},
		"rootfs-gzip.sqfs": {{"squashfs", offs["rootfs-gzip.sqfs"]}},
		"rootfs-ext4.img":  {{"ext", offs["rootfs-ext4.img"]}},
	}
	var trees int
	for _, r := range res.Roots {
		if r.Raw {
			continue
		}
		trees++
		found := false
		for name, chain := range want {
			if reflect.DeepEqual(r.Chain, chain) {
				found = true
				delete(want, name)
				checkTree(t, r.Dir, true)
			}
		}
		if !found {
			t.Errorf("unexpected tree with chain %v", r.Chain)
		}
	}
	if len(want) > 0 {
		t.Errorf("not carved: %v (roots %v)", want, res.Roots)
	}
	c := res.Coverage
	if c.Size != int64(len(dump)) || c.Unexamined() != 0 || c.Unpacked == 0 || c.Content == 0 {
		t.Errorf("coverage %+v", c)
	}
	// The bytes between the images are raw content: one raw tree at the
	// top level holds them.
	raw := 0
	for _, r := range res.Roots {
		if r.Raw && len(r.Chain) == 0 {
			raw++
		}
	}
	if raw != 1 {
		t.Errorf("%d top-level raw trees, want 1", raw)
	}
}

// TestCarveOverlap: a container found inside another's declared extent is
// opened as part of it, not a second time.
func TestCarveOverlap(t *testing.T) {
	sq, err := os.ReadFile("testdata/rootfs-gzip.sqfs")
	if err != nil {
		t.Fatal(err)
	}
	ui, err := os.ReadFile("testdata/uinitrd.img")
	if err != nil {
		t.Fatal(err)
	}
	// A uImage written over the squashfs's data, inside its bytes_used.
	dump := append([]byte("boot"), sq...)
	copy(dump[4+150:], ui)
	p := writeTemp(t, dump)
	res, err := Unpack(context.Background(), p, t.TempDir(), extract.DefaultLimits())
	if err != nil && !strings.Contains(err.Error(), "squashfs at 0x4") {
		t.Fatal(err)
	}
	for _, r := range res.Roots {
		for _, l := range r.Chain {
			if l.Format == "uimage" {
				t.Errorf("uimage inside the squashfs extent opened on its own: %v", r.Chain)
			}
		}
	}
}

func TestCarveNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	_, err := Unpack(context.Background(), writeTemp(t, b), t.TempDir(), extract.DefaultLimits())
	if err == nil {
		t.Error("random bytes accepted as firmware")
	}
}
