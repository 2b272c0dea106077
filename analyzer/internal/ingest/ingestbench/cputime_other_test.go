//go:build !unix

package ingestbench

import "time"

// processCPU returns 0: process CPU time is measured on Unix only.
func processCPU() time.Duration { return 0 }
