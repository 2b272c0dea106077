package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/signatures"
)

// SBOMOptions are the parsed flags and arguments of `oemtrace sbom`.
type SBOMOptions struct {
	Streams          Streams
	Target           string
	Output           string
	CycloneDXVersion string
	FailOn           string
	AllowIncomplete  bool
	limits           limitFlags
}

// NewCmdSBOM builds `oemtrace sbom`.
func NewCmdSBOM(s Streams) *cobra.Command {
	opts := &SBOMOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "sbom TARGET",
		Short: "Write an SBOM of what a vendor ships, with oemtrace's evidence",
		Long: `Catalog TARGET (a root filesystem directory, a tar, tar.gz or zip archive, a
docker-archive or OCI image archive, a firmware image, or a single binary;
- reads standard input) and write an SBOM of it: every package Syft finds
(in every filesystem of a firmware image, each package's locations marked
with the chain of containers that leads to it), plus every oemtrace
finding with its evidence on the component it concerns (CycloneDX
evidence.identity and evidence.occurrences, SPDX annotations), and the
verdict in the document's properties.

The exit code follows the same contract as scan.

` + exitCodesHelp,
		Example: `  oemtrace sbom ./rootfs -o cyclonedx-json=sbom.cdx.json
  oemtrace sbom appliance.tar.gz -o spdx-json > sbom.spdx.json
  oemtrace sbom firmware.bin -o cyclonedx-json=firmware.cdx.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{msg: "sbom needs exactly one TARGET", hint: "give a directory, an archive, an image or a binary"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target = args[0]
			return sbomRun(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "cyclonedx-json", "FORMAT[=FILE]; formats: "+strings.Join(analyzer.SBOMFormats(), ", "))
	f.StringVar(&opts.CycloneDXVersion, "cyclonedx-version", "1.6", "CycloneDX spec version: 1.6 or 1.7")
	f.StringVar(&opts.FailOn, "fail-on", string(analyzer.DefaultFailOn), "weakest finding class that fails: engine, component, service or mention")
	f.BoolVar(&opts.AllowIncomplete, "allow-incomplete", false, "exit 0 instead of 3 when part of the input could not be examined")
	opts.limits.register(f)
	return cmd
}

func sbomRun(cmd *cobra.Command, opts *SBOMOptions) error {
	failOn, err := signatures.ParseClass(opts.FailOn)
	if err != nil {
		return &usageError{msg: "--fail-on: " + err.Error()}
	}
	format, file, _ := strings.Cut(opts.Output, "=")
	known := false
	for _, f := range analyzer.SBOMFormats() {
		known = known || f == format
	}
	if !known {
		return &usageError{msg: fmt.Sprintf("unknown SBOM format %q", format), hint: "formats are " + strings.Join(analyzer.SBOMFormats(), ", ")}
	}
	if opts.CycloneDXVersion != "1.6" && opts.CycloneDXVersion != "1.7" {
		return &usageError{msg: fmt.Sprintf("unsupported CycloneDX version %q", opts.CycloneDXVersion), hint: "use 1.6 or 1.7"}
	}
	if err := opts.limits.validate(); err != nil {
		return err
	}
	in := analyzer.FileInput(opts.Target)
	if opts.Target == "-" {
		in = analyzer.ReaderInput("-", opts.Streams.In)
	}
	var buf bytes.Buffer
	ctx, cancel := opts.limits.withTimeout(cmd.Context())
	defer cancel()
	rep, err := analyzer.WriteSBOM(ctx, &buf, in, format, opts.CycloneDXVersion, analyzer.Config{
		FailOn:          failOn,
		AllowIncomplete: opts.AllowIncomplete,
		Limits:          opts.limits.limits(),
	})
	if err != nil {
		return opts.limits.timedOut(ctx, err, opts.Streams.Err)
	}
	if file == "" || file == "-" {
		if _, err := opts.Streams.Out.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("writing SBOM: %w", err)
		}
	} else if err := writeFile(file, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return fmt.Errorf("writing SBOM to %s: %w", file, err)
	}
	if code := exitCode(rep.Verdict); code != ExitClean {
		return &verdictError{code: code}
	}
	return nil
}
