package binmeta

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"hash/adler32"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/internal/testutil"
)

// No dex compiler (d8, dx) is packaged for Debian, so the Android fixtures
// are written by buildDex below: minimal but valid dex files (header,
// string_ids, type_ids, string data and map_list, no classes defined), which
// dexdump accepts. TestWriteAndroidFixtures writes them to testdata/ with
// -update; testdata/make.sh runs it.

// dexTypes are the type descriptors of the fixture dex files.
func dexTypes() (classes, classes2 []string) {
	classes = []string{
		"I", "V", "[Ljava/lang/String;",
		"Landroid/app/Activity;",
		"Lcom/example/scan/MainActivity;",
		"Lcom/kavsdk/antivirus/AvObjectScanner;",
		"Ljava/lang/Object;",
	}
	classes2 = []string{"Lcom/example/scan/MainActivity$1;", "Ljava/lang/Runnable;"}
	return classes, classes2
}

// buildDex returns a dex file whose string and type tables list types.
func buildDex(types []string) []byte {
	types = slices.Clone(types)
	slices.Sort(types) // string_ids are sorted by content, type_ids by string index
	n := uint32(len(types))
	le := binary.LittleEndian
	stringIDs := uint32(0x70)
	typeIDs := stringIDs + 4*n
	data := typeIDs + 4*n
	out := make([]byte, data)
	var strData []byte
	for i, t := range types {
		le.PutUint32(out[stringIDs+4*uint32(i):], data+uint32(len(strData)))
		le.PutUint32(out[typeIDs+4*uint32(i):], uint32(i))
		strData = binary.AppendUvarint(strData, uint64(len(t))) // ASCII: bytes are code units
		strData = append(strData, t...)
		strData = append(strData, 0)
	}
	out = append(out, strData...)
	for len(out)%4 != 0 {
		out = append(out, 0)
	}
	mapOff := uint32(len(out))
	items := [][3]uint32{
		{0x0000, 1, 0},         // header_item
		{0x0001, n, stringIDs}, // string_id_item
		{0x0002, n, typeIDs},   // type_id_item
		{0x2002, n, data},      // string_data_item
		{0x1000, 1, mapOff},    // map_list
	}
	out = le.AppendUint32(out, uint32(len(items)))
	for _, it := range items {
		out = le.AppendUint16(out, uint16(it[0]))
		out = le.AppendUint16(out, 0)
		out = le.AppendUint32(out, it[1])
		out = le.AppendUint32(out, it[2])
	}
	copy(out, "dex\n035\x00")
	le.PutUint32(out[0x20:], uint32(len(out))) // file_size
	le.PutUint32(out[0x24:], 0x70)             // header_size
	le.PutUint32(out[0x28:], dexEndianConstant)
	le.PutUint32(out[0x34:], mapOff)
	le.PutUint32(out[0x38:], n)
	le.PutUint32(out[0x3c:], stringIDs)
	le.PutUint32(out[0x40:], n)
	le.PutUint32(out[0x44:], typeIDs)
	le.PutUint32(out[0x68:], uint32(len(out))-data) // data_size
	le.PutUint32(out[0x6c:], data)                  // data_off
	sum := sha1.Sum(out[32:])
	copy(out[12:32], sum[:])
	le.PutUint32(out[8:], adler32.Checksum(out[12:]))
	return out
}

// buildZip returns a zip archive of the given entries, in order,
// deflated, with fixed timestamps.
func buildZip(t testing.TB, entries ...[2]string) []byte {
	return buildZipMethod(t, zip.Deflate, entries...)
}

// buildZipMethod is buildZip with entries compressed by method.
func buildZipMethod(t testing.TB, method uint16, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{
			Name:     e[0],
			Method:   method,
			Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// androidFixtures returns testdata/classes.dex and testdata/app.apk. The
// apk's entries are stored, not deflated, so that its bytes do not depend
// on the version of compress/flate.
func androidFixtures(t testing.TB) (dex, apk []byte) {
	classes, classes2 := dexTypes()
	dex = buildDex(classes)
	apk = buildZipMethod(t, zip.Store,
		[2]string{"AndroidManifest.xml", "(binary XML manifest; not read by binmeta)"},
		[2]string{"classes.dex", string(dex)},
		[2]string{"classes2.dex", string(buildDex(classes2))},
		[2]string{"res/raw/readme.txt", "fixture"},
	)
	return dex, apk
}

// TestWriteAndroidFixtures checks the Android fixtures in testdata/
// against what buildDex writes, and rewrites them with -update.
func TestWriteAndroidFixtures(t *testing.T) {
	dex, apk := androidFixtures(t)
	for name, want := range map[string][]byte{"classes.dex": dex, "app.apk": apk} {
		path := filepath.Join("testdata", name)
		if *testutil.Update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what buildDex writes; run testdata/make.sh", path)
		}
	}
}

// TestMUTF8 decodes the Modified UTF-8 forms dex strings use.
func TestMUTF8(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{[]byte("\x03abc\x00"), "abc"},
		{[]byte("\x02\xc0\x80x\x00"), "\x00x"},                     // NUL as two bytes
		{[]byte("\x01\xc3\xa9\x00"), "é"},                          // two-byte form
		{[]byte("\x02\xed\xa0\xbd\xed\xb8\x80\x00"), "\U0001F600"}, // surrogate pair
		{[]byte("\x01\xff\x00"), "\ufffd"},
		{[]byte("\x80\x80\x80\x80\x80\x80abc"), "\ufffdabc"}, // over-long length, no NUL
		{nil, ""},
	} {
		if got, _ := mutf8String(tc.in); got != tc.want {
			t.Errorf("mutf8String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
