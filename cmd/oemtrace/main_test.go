package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/oemtrace/oemtrace/internal/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"oemtrace": func() {
			os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
		},
	})
}

// TestScript runs the command-line scripts in testdata/script: usage, every
// exit code, every output format, standard input and the error wording.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Binary fixtures cannot live in txtar files; copy the firmware
			// images the scripts name into the work directory.
			for _, name := range []string{"uinitrd.img", "rootfs-lz4.sqfs", "flash.bin"} {
				b, err := os.ReadFile(filepath.Join("..", "..", "analyzer", "internal", "firmware", "testdata", name))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), b, 0o644); err != nil {
					return err
				}
			}
			// Bytes of no known format, anywhere.
			noise := make([]byte, 64<<10)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range noise {
				noise[i] = byte(r.Uint32())
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "noise.bin"), noise, 0o644)
		},
	})
}
