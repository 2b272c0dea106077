package cli

import (
	"github.com/spf13/cobra"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/signatures"
)

// ScanOptions are the parsed flags and arguments of `oemtrace scan`.
type ScanOptions struct {
	Streams         Streams
	Targets         []string
	Outputs         []string
	FailOn          string
	AllowIncomplete bool
	Quiet           bool
	limits          limitFlags
}

// NewCmdScan builds `oemtrace scan`. runF replaces scanRun in tests of flag
// parsing; nil means scanRun.
func NewCmdScan(s Streams, runF func(*cobra.Command, *ScanOptions) error) *cobra.Command {
	opts := &ScanOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "scan TARGET...",
		Short: "Scan SBOMs, file trees, archives, images, firmware and binaries",
		Long: `Scan each TARGET and report every Kaspersky-derived component with the
evidence that proves it. TARGET is a file or directory, or - for standard
input.

The kind of a target is recognized from its content, never from its file
name: an SBOM (CycloneDX JSON and XML 1.2 to 1.7, SPDX 2.2 and 2.3 JSON and
tag-value, Syft JSON, optionally gzip-compressed); a directory holding a
root filesystem; a tar, tar.gz or zip archive; a docker-archive or OCI image
archive; a firmware image (squashfs, ext2/3/4, cramfs, JFFS2, UBI/UBIFS,
ISO 9660, FAT, cpio, 7z, rpm, deb, uImage, FIT, TRX, Android sparse, gzip,
xz, bzip2, zstd, lz4 or lzma streams, nested, or a raw flash dump holding
any of them at any offset); or a single ELF, PE, jar, apk or dex file.
Filesystem images are read in place, without extracting them.

Findings have a class: engine, component, service or mention. By default
every class but mention blocks (--fail-on service).

` + exitCodesHelp,
		Example: `  oemtrace scan sbom.cdx.json
  oemtrace scan ./rootfs firmware.img
  oemtrace scan -o json=report.json -o table vendor.spdx
  syft dir:rootfs -o cyclonedx-json | oemtrace scan --quiet -`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{msg: "scan needs at least one TARGET", hint: "give a file, or - to read standard input"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Targets = args
			if runF != nil {
				return runF(cmd, opts)
			}
			return scanRun(cmd, opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Outputs, "output", "o", nil, "output FORMAT[=FILE], repeatable; formats: "+formatNames()+" (default table to stdout)")
	f.StringVar(&opts.FailOn, "fail-on", string(analyzer.DefaultFailOn), "weakest finding class that fails the scan: engine, component, service or mention")
	f.BoolVar(&opts.AllowIncomplete, "allow-incomplete", false, "exit 0 instead of 3 when part of the input could not be examined")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "write nothing to standard output; report files and the exit code still tell the result")
	opts.limits.register(f)
	return cmd
}

func scanRun(cmd *cobra.Command, opts *ScanOptions) error {
	failOn, err := signatures.ParseClass(opts.FailOn)
	if err != nil {
		return &usageError{msg: "--fail-on: " + err.Error(), hint: "e.g. --fail-on engine to block only on engines"}
	}
	outs, err := parseOutputs(opts.Outputs)
	if err != nil {
		return err
	}
	if err := opts.limits.validate(); err != nil {
		return err
	}
	stdin := 0
	var inputs []analyzer.Input
	for _, t := range opts.Targets {
		if t == "-" {
			stdin++
			inputs = append(inputs, analyzer.ReaderInput("-", opts.Streams.In))
			continue
		}
		inputs = append(inputs, analyzer.FileInput(t))
	}
	if stdin > 1 {
		return &usageError{msg: "standard input (-) given more than once"}
	}
	ctx, cancel := opts.limits.withTimeout(cmd.Context())
	defer cancel()
	rep, err := analyzer.Analyze(ctx, inputs, analyzer.Config{
		FailOn:          failOn,
		AllowIncomplete: opts.AllowIncomplete,
		Limits:          opts.limits.limits(),
	})
	if err != nil {
		return opts.limits.timedOut(ctx, err, opts.Streams.Err)
	}
	opts.limits.warnPartial(ctx, opts.Streams.Err)
	if err := writeOutputs(outs, rep, opts.Streams.Out, opts.Quiet); err != nil {
		return err
	}
	if code := exitCode(rep.Verdict); code != ExitClean {
		return &verdictError{code: code}
	}
	return nil
}
