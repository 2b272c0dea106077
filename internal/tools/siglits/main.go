// Command siglits prints every literal of the embedded signature set, one per
// line, for comparing oemtrace's scan with ripgrep and yara on the same
// patterns (see scripts/bench-tree.sh). -yara prints a yara rule instead.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/oemtrace/oemtrace/signatures"
)

func main() {
	yara := flag.Bool("yara", false, "print one yara rule holding every literal")
	flag.Parse()
	set, err := signatures.Embedded()
	if err != nil {
		fmt.Fprintln(os.Stderr, "siglits:", err)
		os.Exit(1)
	}
	if !*yara {
		for _, l := range set.Literals() {
			fmt.Println(string(l.Bytes))
		}
		return
	}
	var b strings.Builder
	b.WriteString("rule oemtrace_literals {\n  strings:\n")
	for i, l := range set.Literals() {
		mod := ""
		if l.Fold {
			mod = " nocase"
		}
		fmt.Fprintf(&b, "    $s%d = %s%s\n", i, strconv.Quote(string(l.Bytes)), mod)
	}
	b.WriteString("  condition:\n    any of them\n}\n")
	fmt.Print(b.String())
}
