// Package binmeta reads identity-bearing facts out of binaries: the dynamic
// symbols and library names of ELF files, the imports, exports, version
// resource and Authenticode signers of PE files, and the class names of Java
// archives, Android packages and dex files.
//
// These facts survive what hides a product's origin from a file-name or
// string search: a shared library renamed and stripped still exports its C
// API by name, a DLL's version resource and signing certificate name its
// maker, and an Android package still loads its SDK's classes by their
// package names.
//
// Read trusts nothing in its input: every count and size read from a header
// is checked against the file's size and against [Limits] before anything
// is allocated for it, and every loop over a table is bounded by the limits,
// so a hostile file costs at most the limits. The ELF and PE headers are
// parsed here, with debug/elf and debug/pe supplying only constants and
// types, because those packages read tables binmeta does not need and
// trust some of their counts. One exception: archive/zip holds the whole
// central directory of a zip file in memory, which grows with the number
// of entries (at most the file's size over 46 bytes), not with the limits.
package binmeta

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
)

// Facts are the identity-bearing facts of one binary. Every list is sorted
// and free of duplicates, and empty lists are nil.
type Facts struct {
	// Format is "elf", "pe", "jar" (a zip with .class entries, a
	// META-INF/ directory, or nested jars with classes), "apk" (a zip with
	// classes*.dex or a root AndroidManifest.xml, which includes Android
	// libraries, .aar) or "dex".
	Format string `json:"format"`
	// SOName is the ELF DT_SONAME; for a PE file, the DLL name its export
	// directory records, which is the name it was linked under even when
	// the file has been renamed since.
	SOName string `json:"soname,omitempty"`
	// Needed are the ELF DT_NEEDED entries, or the DLL names a PE file
	// imports (ordinary and delay-load imports).
	Needed []string `json:"needed,omitempty"`
	// Exports are the ELF dynamic symbols a file defines (functions, GNU
	// indirect functions and objects of global or weak binding and default
	// or protected visibility), or a PE file's exported names.
	Exports []string `json:"exports,omitempty"`
	// Imports are the ELF undefined dynamic symbols, or the function names
	// a PE file imports by name (imports by ordinal have no name and are
	// left out).
	Imports []string `json:"imports,omitempty"`
	// Version holds the strings of a PE file's version resource: the first
	// string table (language block) of its StringFileInfo, keeping the
	// standard keys CompanyName, ProductName, FileDescription,
	// LegalCopyright, OriginalFilename, InternalName, ProductVersion,
	// FileVersion, Comments, LegalTrademarks, PrivateBuild and SpecialBuild.
	Version map[string]string `json:"version,omitempty"`
	// Signers are the certificates of a PE file's Authenticode signatures,
	// nested signatures and time stamps included.
	Signers []Signer `json:"signers,omitempty"`
	// Classes are the dotted Java class names ("com.example.Foo",
	// "com.example.Foo$Inner") of the .class entries of a jar, of the jars
	// nested in it, and of the type table of every dex file, whether a
	// classes*.dex entry of an apk or a dex file on its own. A dex type
	// table lists the classes a dex file references as well as those it
	// defines.
	Classes []string `json:"classes,omitempty"`
	// Truncated reports that a limit was hit or part of the file was
	// damaged: the lists are partial.
	Truncated bool `json:"truncated,omitempty"`
}

// Signer is one certificate of an Authenticode signature.
type Signer struct {
	// Subject and Issuer are the certificate's distinguished names in
	// RFC 2253 form ("CN=Acme Test Signer,O=Acme Test Org,C=US").
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// CommonName and Organization are taken from the subject; several
	// organizations are joined with ", ".
	CommonName   string `json:"commonName,omitempty"`
	Organization string `json:"organization,omitempty"`
	// SerialNumber is the certificate's serial number in lower-case hex.
	SerialNumber string `json:"serialNumber"`
	// Signer reports that a signature (not a time stamp) was made with
	// this certificate's key: the certificate a signer info names.
	Signer bool `json:"signer,omitempty"`
}

// Limits bound the work and memory one Read may spend. A zero or negative
// field takes its value from [DefaultLimits].
type Limits struct {
	// MaxSymbols caps each of Needed, Exports and Imports, and the number
	// of certificates kept.
	MaxSymbols int
	// MaxClasses caps Classes.
	MaxClasses int
	// MaxSectionBytes caps any one region read into memory: an ELF
	// section or segment, a PE section or certificate table, a dex file, a
	// zip entry. A zip archive's entries together may inflate to at most 8
	// times this, and a PE file's sections to 4 times. Headers and header
	// tables are read up to 4 MiB whatever this says.
	MaxSectionBytes int64
}

// DefaultLimits returns limits that fit the largest ordinary binaries
// (200,000 symbols and classes, 64 MiB per section).
func DefaultLimits() Limits {
	return Limits{MaxSymbols: 200_000, MaxClasses: 200_000, MaxSectionBytes: 64 << 20}
}

// withDefaults fills the unset fields of lim from DefaultLimits.
func (lim Limits) withDefaults() Limits {
	def := DefaultLimits()
	if lim.MaxSymbols <= 0 {
		lim.MaxSymbols = def.MaxSymbols
	}
	if lim.MaxClasses <= 0 {
		lim.MaxClasses = def.MaxClasses
	}
	if lim.MaxSectionBytes <= 0 {
		lim.MaxSectionBytes = def.MaxSectionBytes
	}
	return lim
}

// InternalError is what Read returns when parsing panicked: a bug in this
// package, in the standard library or in the io.ReaderAt, never a property
// of the input alone.
type InternalError struct {
	// Format is the format being parsed, "" when the panic came while
	// telling the format.
	Format string
	// Value is the value the panic carried.
	Value any
	// Stack is the stack of the panic.
	Stack []byte
}

// Error implements error.
func (e *InternalError) Error() string {
	return fmt.Sprintf("binmeta: internal error parsing %s: %v", e.Format, e.Value)
}

// Read parses r, which holds size bytes, and returns the facts it finds.
//
// It returns (nil, nil) for a file of no supported format (see [Sniff]; a
// zip archive that is neither a jar nor an apk is no supported format), and
// a non-nil error for a supported format that is corrupt or cannot be read.
// When the headers were readable but a later structure is damaged, Read
// returns the facts gathered so far, marked Truncated, together with the
// error. Read never panics: a panic while parsing becomes an
// [*InternalError].
func Read(r io.ReaderAt, size int64, lim Limits) (facts *Facts, err error) {
	if size < 0 {
		return nil, fmt.Errorf("binmeta: negative size %d", size)
	}
	s := &source{r: r, size: size, lim: lim.withDefaults()}
	var format string
	defer func() {
		if v := recover(); v != nil {
			facts, err = nil, &InternalError{Format: format, Value: v, Stack: debug.Stack()}
		}
	}()
	format, err = sniffAt(s)
	if err != nil || format == "" {
		return nil, err
	}
	switch format {
	case "elf":
		facts, err = readELF(s)
	case "pe":
		facts, err = readPE(s)
	case "zip":
		facts, err = readZip(s)
	case "dex":
		facts, err = readDexFile(s)
	}
	if facts == nil {
		return nil, err
	}
	if err != nil {
		facts.Truncated = true
	}
	facts.normalize()
	return facts, err
}

// normalize sorts and de-duplicates every list and turns empty ones to nil.
func (f *Facts) normalize() {
	f.Needed = sortedSet(f.Needed)
	f.Exports = sortedSet(f.Exports)
	f.Imports = sortedSet(f.Imports)
	f.Classes = sortedSet(f.Classes)
	if len(f.Version) == 0 {
		f.Version = nil
	}
	f.Signers = mergeSigners(f.Signers)
}

// sortedSet sorts list and removes duplicates and empty strings.
func sortedSet(list []string) []string {
	list = slices.DeleteFunc(list, func(s string) bool { return s == "" })
	if len(list) == 0 {
		return nil
	}
	slices.Sort(list)
	return slices.Compact(list)
}

// mergeSigners sorts certificates by subject, issuer and serial number and
// merges duplicates, keeping Signer when any copy has it.
func mergeSigners(list []Signer) []Signer {
	if len(list) == 0 {
		return nil
	}
	key := func(a, b Signer) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Issuer, b.Issuer),
			cmp.Compare(a.SerialNumber, b.SerialNumber))
	}
	slices.SortFunc(list, key)
	out := list[:1]
	for _, c := range list[1:] {
		last := &out[len(out)-1]
		if key(*last, c) == 0 {
			last.Signer = last.Signer || c.Signer
			continue
		}
		out = append(out, c)
	}
	return out
}

// nameSet gathers the distinct names of one list within a cap on their
// number and a budget on the bytes examined for them (4 times
// Limits.MaxSectionBytes), which bounds the memory and the time that a
// hostile table repeating one long name a million times can cost.
type nameSet struct {
	seen   map[string]struct{}
	list   []string
	max    int
	budget int64
	// full reports that the cap or the budget was hit: the list is partial.
	full bool
}

// newNameSet returns an empty set for lim.
func newNameSet(max int, lim Limits) *nameSet {
	return &nameSet{seen: map[string]struct{}{}, max: max, budget: 4 * lim.MaxSectionBytes}
}

// charge spends n bytes of the budget, reporting false (and marking the
// set full) when it is spent.
func (s *nameSet) charge(n int) bool {
	s.budget -= int64(n)
	if s.budget < 0 {
		s.full = true
	}
	return !s.full
}

// add records name unless it is empty or already recorded; it charges the
// budget for it and reports false once the set is full, when the caller
// should stop.
func (s *nameSet) add(name []byte) bool {
	if s.full || !s.charge(len(name)+1) {
		return false
	}
	if len(name) == 0 {
		return true
	}
	if _, ok := s.seen[string(name)]; ok {
		return true
	}
	if len(s.list) >= s.max {
		s.full = true
		return false
	}
	str := string(name)
	s.seen[str] = struct{}{}
	s.list = append(s.list, str)
	return true
}

// into appends the names to *list and marks f truncated when the set is
// full.
func (s *nameSet) into(f *Facts, list *[]string) {
	*list = append(*list, s.list...)
	if s.full {
		f.Truncated = true
	}
}

// maxHeaderBytes is how much of a file's headers readHeader reads
// regardless of Limits.MaxSectionBytes: enough for the largest ELF section
// header table (65,535 entries of 64 bytes).
const maxHeaderBytes = 4 << 20

// source is the input of one Read with its limits.
type source struct {
	r    io.ReaderAt
	size int64
	lim  Limits
}

// tooLargeError reports a region that lies within the file but is larger
// than Limits.MaxSectionBytes: the caller skips it and marks the facts
// truncated rather than failing.
type tooLargeError struct {
	what string
	n    int64
	max  int64
}

// Error implements error.
func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s: %d bytes exceed the limit of %d", e.what, e.n, e.max)
}

// isTooLarge reports whether err is or wraps a *tooLargeError.
func isTooLarge(err error) bool {
	var t *tooLargeError
	return errors.As(err, &t)
}

// checkRange reports an error unless [off, off+n) lies within the file.
func (s *source) checkRange(off, n int64, what string) error {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return fmt.Errorf("%s: %d bytes at offset %d lie beyond the end of the file (%d bytes)", what, n, off, s.size)
	}
	return nil
}

// read returns the n bytes at off. It fails without allocating when the
// region is not within the file, and returns a *tooLargeError when n exceeds
// Limits.MaxSectionBytes.
func (s *source) read(off, n int64, what string) ([]byte, error) {
	if err := s.checkRange(off, n, what); err != nil {
		return nil, err
	}
	if n > s.lim.MaxSectionBytes {
		return nil, &tooLargeError{what: what, n: n, max: s.lim.MaxSectionBytes}
	}
	buf := make([]byte, n)
	if k, err := s.r.ReadAt(buf, off); k < len(buf) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return buf, nil
}

// readHeader is read for a file's headers and header tables, which may
// take up to maxHeaderBytes even when Limits.MaxSectionBytes is smaller: a
// tiny section limit should truncate the facts, not reject every file.
func (s *source) readHeader(off, n int64, what string) ([]byte, error) {
	if n <= maxHeaderBytes && n > s.lim.MaxSectionBytes {
		lim := *s
		lim.lim.MaxSectionBytes = maxHeaderBytes
		return lim.read(off, n, what)
	}
	return s.read(off, n, what)
}

// readUpTo is read with n clipped to Limits.MaxSectionBytes; clipped reports
// whether it was.
func (s *source) readUpTo(off, n int64, what string) (buf []byte, clipped bool, err error) {
	if err := s.checkRange(off, n, what); err != nil {
		return nil, false, err
	}
	if n > s.lim.MaxSectionBytes {
		n, clipped = s.lim.MaxSectionBytes, true
	}
	buf, err = s.read(off, n, what)
	return buf, clipped, err
}
