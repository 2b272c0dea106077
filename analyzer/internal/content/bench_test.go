package content

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Environment of the benchmark and of testdata/compare.sh.
const (
	// envCorpus names a corpus file to benchmark instead of building one.
	envCorpus = "OEMTRACE_CONTENT_CORPUS"
	// envExport names a directory where TestExportBench writes the corpus,
	// the patterns for ripgrep and a rule file for YARA.
	envExport = "OEMTRACE_CONTENT_EXPORT"
)

// corpusDirs and corpusSize define the benchmark corpus: regular files
// from these trees, in sorted path order, taken alternately from each tree,
// concatenated and cut at corpusSize bytes. Hard links to a file already
// taken and files over corpusMaxFile are left out, so a few huge libraries
// or many links to one driver do not make up the whole corpus.
var corpusDirs = []string{"/usr/lib/x86_64-linux-gnu", "/usr/bin"}

const (
	corpusSize    = 256 << 20
	corpusMaxFile = 16 << 20
)

// indicators are real Kaspersky-engine indicator strings.
var indicators = []string{
	"AVP Antiviral Database. (c)Kaspersky Lab", "KLZF", "appinfo.kli",
	"kaveInitializeEx", "kaveInitializeService", "kaveScanFile", "kaveScanStream",
	"kaveGetVersion", "kaveGetDatabasesInfo", "kaveGetLicenseInfo",
	"kaveReloadDatabases", "kaveUninitialize", "sdk8_unix_interface.h",
	"/opt/kaspersky/", "kavhttpd", "kavicapd", "kavehost", "libkavsdk.so",
	"com.kavsdk.", "com/kavsdk/", "u0607g.xml", "u1313g.xml", "keepup2date8",
	".upd.kaspersky.com", ".geo.kaspersky.com", "kaspersky-labs.com",
	"kav8.zonealarm.com", "activation-v2.kaspersky.com", "AO Kaspersky Lab",
	"Kaspersky Lab ZAO", "KL_PLUGINS_PATH", "X-KAV-ProtocolVersion",
	"X-KLMS-AntiSpam-Status", "SafeStream", "kaspersky-lab-engine",
	`KasperskyLab\protected`, "KAVFS",
}

// foldIndicator is the one case-insensitive pattern.
const foldIndicator = "Kaspersky"

// common are strings found in many binaries, so the set has frequent
// patterns as well as rare ones.
var common = []string{
	"GLIBC_2.", "OpenSSL", "libc.so.6", "GCC: (Debian", ".gnu_debuglink",
	"__cxa_finalize", "__libc_start_main", "__stack_chk_fail", "__gmon_start__",
	"_ITM_deregisterTMCloneTable", ".note.gnu.build-id", ".eh_frame_hdr",
	"libstdc++.so.6", "GLIBCXX_3.4", "CXXABI_1.3", "/lib64/ld-linux-x86-64.so.2",
	"libm.so.6", "libz.so.1", "libgcc_s.so.1", "libcrypto.so", "pthread_create",
	"__cxa_throw", "__gxx_personality_v0", "_Unwind_Resume", "basic_string",
	"Copyright", "Usage:", "--help", "/usr/share/", "https://", "http://",
	"BEGIN CERTIFICATE", "SSL_CTX_new", "EVP_", "X509_", ".rodata", ".dynstr",
	"__bss_start", "memcpy", "strlen", "malloc", "fprintf", "snprintf",
	"getenv", "setlocale", "dcgettext", "_ZNSt", "_ZdlPv", "No such file",
	"Failed to", "WARNING",
}

// benchPatterns returns the benchmark's pattern set: indicators, one Fold
// pattern, common strings and random alphanumerics, 200 in all, ID = index.
func benchPatterns() []Pattern {
	var ps []Pattern
	add := func(s string, fold bool) {
		ps = append(ps, Pattern{ID: len(ps), Bytes: []byte(s), Fold: fold, AtOffset: -1})
	}
	for _, s := range indicators {
		add(s, false)
	}
	add(foldIndicator, true)
	for _, s := range common {
		add(s, false)
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	rng := rand.New(rand.NewPCG(2024, 11))
	for len(ps) < 200 {
		b := make([]byte, 8+rng.IntN(9))
		for i := range b {
			b[i] = alnum[rng.IntN(len(alnum))]
		}
		add(string(b), false)
	}
	return ps
}

var corpusOnce = sync.OnceValues(loadCorpus)

// loadCorpus reads the file named by $OEMTRACE_CONTENT_CORPUS, or builds the
// corpus from corpusDirs.
func loadCorpus() ([]byte, error) {
	if name := os.Getenv(envCorpus); name != "" {
		return os.ReadFile(name)
	}
	var lists [][]string
	for _, dir := range corpusDirs {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("corpus directory: %w", err)
		}
		var files []string
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if fi, err := d.Info(); err == nil && fi.Size() <= corpusMaxFile {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		lists = append(lists, files)
	}
	buf := make([]byte, 0, corpusSize)
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	for i := 0; len(buf) < corpusSize; i++ {
		more := false
		for _, files := range lists {
			if i >= len(files) || len(buf) >= corpusSize {
				continue
			}
			more = true
			if fi, err := os.Stat(files[i]); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					id := inode{uint64(st.Dev), st.Ino}
					if seen[id] {
						continue
					}
					seen[id] = true
				}
			}
			b, err := os.ReadFile(files[i])
			if err != nil {
				continue // unreadable or vanished: skip
			}
			buf = append(buf, b[:min(len(b), corpusSize-len(buf))]...)
		}
		if !more {
			break
		}
	}
	return buf, nil
}

func benchSetup(b *testing.B) (*Matcher, []byte) {
	b.Helper()
	data, err := corpusOnce()
	if err != nil {
		b.Skipf("no benchmark corpus: %v", err)
	}
	if len(data) == 0 {
		b.Skip("no benchmark corpus: no files read")
	}
	m, err := Compile(benchPatterns())
	if err != nil {
		b.Fatal(err)
	}
	return m, data
}

// BenchmarkScan scans a corpus of real binaries (see corpusDirs) for 200
// literals: in memory, through an io.Reader, and from the corpus file when
// $OEMTRACE_CONTENT_CORPUS names one.
func BenchmarkScan(b *testing.B) {
	m, data := benchSetup(b)
	count := func(x Match) bool { return true }
	b.Run("ScanBytes", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		n := 0
		for b.Loop() {
			n = 0
			m.ScanBytes(data, func(Match) bool { n++; return true })
		}
		b.ReportMetric(float64(n), "matches")
	})
	b.Run("Scan", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		sc := NewScanner(m)
		for b.Loop() {
			if _, err := sc.Scan(bytes.NewReader(data), count); err != nil {
				b.Fatal(err)
			}
		}
	})
	if name := os.Getenv(envCorpus); name != "" {
		b.Run("File", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			sc := NewScanner(m)
			for b.Loop() {
				f, err := os.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				_, err = sc.Scan(f, count)
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestExportBench writes the benchmark's corpus and patterns for
// testdata/compare.sh into $OEMTRACE_CONTENT_EXPORT, with the match counts
// ripgrep and YARA should report. It is skipped when the variable is unset.
func TestExportBench(t *testing.T) {
	dir := os.Getenv(envExport)
	if dir == "" {
		t.Skip(envExport + " not set")
	}
	data, err := loadCorpus()
	if err != nil {
		t.Fatal(err)
	}
	ps := benchPatterns()
	var rgLines, yara strings.Builder
	yara.WriteString("rule content_bench {\n  strings:\n")
	for i, p := range ps {
		rgLines.Write(p.Bytes)
		rgLines.WriteByte('\n')
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(string(p.Bytes))
		mod := ""
		if p.Fold {
			mod = " nocase"
		}
		fmt.Fprintf(&yara, "    $s%d = \"%s\"%s\n", i, esc, mod)
	}
	yara.WriteString("  condition:\n    any of them\n}\n")

	// YARA reports every occurrence of every string, like Scan. ripgrep is
	// case-sensitive with -F and counts non-overlapping leftmost-first
	// matches: the earliest start, and there the first pattern listed.
	m, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	all := 0
	m.ScanBytes(data, func(Match) bool { all++; return true })
	exact := slices.Clone(ps)
	for i := range exact {
		exact[i].Fold = false
	}
	me, err := Compile(exact)
	if err != nil {
		t.Fatal(err)
	}
	rg, end := 0, int64(0)
	me.ScanBytes(data, func(x Match) bool {
		if x.Offset >= end {
			rg++
			end = x.Offset + int64(len(ps[x.ID].Bytes))
		}
		return true
	})
	files := map[string][]byte{
		"corpus.bin":   data,
		"patterns.txt": []byte(rgLines.String()),
		"rules.yar":    []byte(yara.String()),
		"expected.txt": fmt.Appendf(nil, "bytes=%d patterns=%d all=%d rg=%d\n", len(data), len(ps), all, rg),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d bytes, %d patterns, %d matches, %d leftmost-first", len(data), len(ps), all, rg)
}
