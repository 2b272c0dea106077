// Command oemtrace finds Kaspersky-derived components in SBOMs and in what
// vendors ship, including under another brand name. See the README and
// `oemtrace --help`.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/oemtrace/oemtrace/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
