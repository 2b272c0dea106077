// Command oemtrace finds Kaspersky-derived components in SBOMs and in what
// vendors ship, including under another brand name. See the README and
// `oemtrace --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/oemtrace/oemtrace/internal/cli"
)

// memoryLimit is the heap size past which the garbage collector works
// harder, unless GOMEMLIMIT says otherwise: scanning a large image keeps
// the process's memory about flat instead of letting garbage grow to
// twice the live heap.
const memoryLimit = 384 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
