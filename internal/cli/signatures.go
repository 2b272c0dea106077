package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/signatures"
)

// NewCmdSignatures builds `oemtrace signatures list|show ID`.
func NewCmdSignatures(s Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "signatures",
		Short: "List and show the detection rules",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every rule with its class and confidence",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := signatures.Embedded()
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "signature set %s (%s), %d rules\n\n", set.Manifest.Version, set.Digest, len(set.Rules))
			tw := tabwriter.NewWriter(s.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCLASS\tCONFIDENCE\tTITLE")
			for _, r := range set.Rules {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Class, r.Confidence, r.Title)
			}
			return tw.Flush()
		},
	}, &cobra.Command{
		Use:   "show ID",
		Short: "Show one rule: patterns, sources and examples",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{msg: "show needs exactly one rule ID", hint: "run 'oemtrace signatures list' for the IDs"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := signatures.Embedded()
			if err != nil {
				return err
			}
			r := set.Rule(args[0])
			if r == nil {
				return &usageError{msg: fmt.Sprintf("no rule %q", args[0]), hint: "run 'oemtrace signatures list' for the IDs"}
			}
			b, err := yaml.Marshal(r)
			if err != nil {
				return err
			}
			_, err = s.Out.Write(b)
			return err
		},
	})
	return cmd
}

// NewCmdVersion builds `oemtrace version`.
func NewCmdVersion(s Streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tool version and the signature set version and digest",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := signatures.Embedded()
			if err != nil {
				return err
			}
			fmt.Fprintf(s.Out, "oemtrace %s\nsignatures %s %s (%d rules, %s)\n", toolVersion(), set.Manifest.Version, set.Digest, len(set.Rules), set.Source)
			return nil
		},
	}
}

func toolVersion() string { return analyzer.Version }
