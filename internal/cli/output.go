package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/analyzer/report/table"
)

// encoders is the registry of report formats; flag help and validation read
// it, so the two cannot disagree.
var encoders = map[string]func(io.Writer, *report.Report) error{
	"table": table.Encode,
	"json":  report.WriteJSON,
}

func formatNames() string {
	names := make([]string, 0, len(encoders))
	for n := range encoders {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// output is one -o FORMAT[=FILE] request. An empty file means stdout.
type output struct {
	format, file string
}

func parseOutputs(specs []string) ([]output, error) {
	if len(specs) == 0 {
		specs = []string{"table"}
	}
	var outs []output
	stdout := 0
	for _, spec := range specs {
		format, file, _ := strings.Cut(spec, "=")
		if _, ok := encoders[format]; !ok {
			return nil, &usageError{
				msg:  fmt.Sprintf("unknown output format %q", format),
				hint: "formats are " + formatNames() + "; write -o FORMAT or -o FORMAT=FILE",
			}
		}
		if file == "" || file == "-" {
			file = ""
			stdout++
		}
		outs = append(outs, output{format: format, file: file})
	}
	if stdout > 1 {
		return nil, &usageError{
			msg:  "more than one output format writes to standard output",
			hint: "send all but one to files, e.g. -o table -o json=report.json",
		}
	}
	return outs, nil
}

// write renders r in every requested format. Files are written whole or
// not at all: a failed encode leaves no partial file behind.
func writeOutputs(outs []output, r *report.Report, stdout io.Writer, quiet bool) error {
	for _, o := range outs {
		enc := encoders[o.format]
		if o.file == "" {
			if quiet {
				continue
			}
			if err := enc(stdout, r); err != nil {
				return fmt.Errorf("writing %s report: %w", o.format, err)
			}
			continue
		}
		if err := writeFile(o.file, func(w io.Writer) error { return enc(w, r) }); err != nil {
			return fmt.Errorf("writing %s report to %s: %w", o.format, o.file, err)
		}
	}
	return nil
}

func writeFile(name string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(dirOf(name), ".oemtrace-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		if i == 0 {
			return "/"
		}
		return name[:i]
	}
	return "."
}
