// Package cli is oemtrace's command line: a thin cobra layer over the
// analyzer library. Nothing here touches os.Stdout, os.Args or os.Exit; Main
// receives every input and output and returns the exit code.
//
// Messages to the user go to stderr, prefixed "oemtrace: error:" or
// "oemtrace: hint:", lower case and without a final period.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/oemtrace/oemtrace/analyzer"
)

// Streams are the standard streams a command uses.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

const kindsHint = "oemtrace reads SBOMs (CycloneDX, SPDX, Syft JSON), directories, tar, tar.gz and zip archives, docker-archive and OCI image archives, firmware images (squashfs, ext4, cramfs, JFFS2, UBI/UBIFS, ISO 9660, FAT, cpio, 7z, rpm, deb, uImage, FIT, TRX, Android sparse, compressed streams, and raw flash dumps holding any of them), and ELF, PE, jar, apk and dex files"

const exitCodesHelp = `Exit codes:
  0  clean: everything was examined, nothing blocking was found
  1  tainted: a finding at or above --fail-on (wins over 3)
  2  error: bad usage, unreadable or unsupported input, I/O failure
  3  incomplete: nothing blocking found, but part of the input could not be
     examined (use --allow-incomplete to turn this into 0)`

// Main runs the command line with args (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, s Streams) int {
	root := NewRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil {
		var ve *verdictError
		if !errors.As(err, &ve) {
			fmt.Fprintf(s.Err, "oemtrace: error: %s\n", err)
			var ue *usageError
			switch {
			case errors.As(err, &ue) && ue.hint != "":
				fmt.Fprintf(s.Err, "oemtrace: hint: %s\n", ue.hint)
			case errors.Is(err, analyzer.ErrUnknownKind):
				fmt.Fprintf(s.Err, "oemtrace: hint: %s\n", kindsHint)
			}
		}
	}
	return codeOf(err)
}

// NewRootCmd builds the command tree.
func NewRootCmd(s Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "oemtrace",
		Short: "Find Kaspersky-derived code in what vendors ship and in SBOMs, even under another brand name",
		Long: `oemtrace finds Kaspersky-derived components in what a vendor ships and in
the SBOMs suppliers hand over, including when they carry another brand name,
and points at the exact evidence for each finding.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{msg: err.Error(), hint: fmt.Sprintf("run '%s --help' for usage", c.CommandPath())}
	})
	root.AddCommand(NewCmdScan(s, nil), NewCmdSBOM(s), NewCmdSignatures(s), NewCmdVersion(s))
	return root
}
