package extfs

import "testing"

// FuzzExtfs opens and walks arbitrary images, reading every file: it must
// never panic or hang. Seeds are the fixtures, unpacked and cut to their
// first 96 KiB (superblock, descriptors, inode tables and most directory
// blocks) so that mutations stay fast.
func FuzzExtfs(f *testing.F) {
	for _, fx := range fixtures {
		img := loadImage(f, fx.name)
		f.Add(img[:min(len(img), 96<<10)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		exercise(t, b)
	})
}

// FuzzExtfsPatch overwrites bytes of a whole fixture at a fuzzed offset
// and walks the result: structure-preserving damage reaches deeper than
// FuzzExtfs's mutations of raw images.
func FuzzExtfsPatch(f *testing.F) {
	var imgs [][]byte
	for _, fx := range fixtures {
		imgs = append(imgs, loadImage(f, fx.name))
	}
	for i := range imgs {
		f.Add(uint8(i), uint32(1024+0x60), []byte{0xff})
		f.Add(uint8(i), uint32(4096), []byte{0, 0, 0, 0})
	}
	f.Fuzz(func(t *testing.T, which uint8, off uint32, patch []byte) {
		img := imgs[int(which)%len(imgs)]
		at := int(off % uint32(len(img)))
		n := min(len(patch), len(img)-at, 64)
		saved := append([]byte(nil), img[at:at+n]...)
		copy(img[at:], patch[:n])
		defer copy(img[at:], saved)
		exercise(t, img)
	})
}
