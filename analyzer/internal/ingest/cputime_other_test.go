//go:build !unix

package ingest

import "time"

// processCPU returns 0: process CPU time is measured on Unix only.
func processCPU() time.Duration { return 0 }
