package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/oemtrace/oemtrace/analyzer"
)

// limitFlags are the unpacking limits and the time limit shared by scan
// and sbom.
type limitFlags struct {
	maxBytes, maxFileBytes sizeValue
	maxEntries, maxDepth   int
	maxRatio               int64
	timeout                time.Duration
}

func (l *limitFlags) register(f *pflag.FlagSet) {
	f.Var(&l.maxBytes, "max-unpacked", "total bytes an archive, image or firmware may unpack to, e.g. 8GiB (default: 1000 times its size, 64MiB to 16GiB)")
	f.Var(&l.maxFileBytes, "max-file-size", "largest single unpacked file, e.g. 512MiB (default 4GiB)")
	f.IntVar(&l.maxEntries, "max-entries", 0, "most entries unpacked (default 2000000)")
	f.IntVar(&l.maxDepth, "max-depth", 0, "most nested firmware layers opened (default 8)")
	f.Int64Var(&l.maxRatio, "max-ratio", 0, "most decompressed bytes per compressed byte (default 1000)")
	f.DurationVar(&l.timeout, "timeout", 0, "stop after this wall time, e.g. 30m; an unfinished scan exits 3 (default: no limit)")
}

func (l *limitFlags) validate() error {
	if l.maxEntries < 0 || l.maxDepth < 0 || l.maxRatio < 0 || l.timeout < 0 {
		return &usageError{msg: "limits must not be negative"}
	}
	return nil
}

func (l *limitFlags) limits() analyzer.Limits {
	return analyzer.Limits{
		MaxBytes:     int64(l.maxBytes),
		MaxEntries:   l.maxEntries,
		MaxFileBytes: int64(l.maxFileBytes),
		MaxDepth:     l.maxDepth,
		MaxRatio:     l.maxRatio,
	}
}

// withTimeout applies --timeout to ctx.
func (l *limitFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.timeout > 0 {
		return context.WithTimeout(ctx, l.timeout)
	}
	return context.WithCancel(ctx)
}

// timedOut turns a scan stopped by --timeout into exit 3 (incomplete),
// saying so on stderr; other errors pass through.
func (l *limitFlags) timedOut(ctx context.Context, err error, stderr io.Writer) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "oemtrace: error: time limit of %s reached; the input was not fully examined\n", l.timeout)
		return &verdictError{code: ExitIncomplete}
	}
	return err
}

// warnPartial says on stderr that --timeout cut the scan short; the
// report is still written, with the unexamined parts as gaps.
func (l *limitFlags) warnPartial(ctx context.Context, stderr io.Writer) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "oemtrace: warning: time limit of %s reached; the report covers what was examined before it, the rest is listed as gaps\n", l.timeout)
	}
}

// sizeValue is a byte count flag that accepts suffixes: 512MiB, 16GiB,
// 1G (1000^3), or plain bytes.
type sizeValue int64

func (s *sizeValue) String() string {
	if *s == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *sizeValue) Type() string { return "size" }

func (s *sizeValue) Set(v string) error {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1},
	}
	num, mult := strings.TrimSpace(v), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || (mult > 1 && n > (1<<62)/mult) {
		return fmt.Errorf("%q is not a size (e.g. 512MiB, 16GiB, 1000000)", v)
	}
	*s = sizeValue(n * mult)
	return nil
}
