package cli

import (
	"errors"

	"github.com/oemtrace/oemtrace/analyzer/report"
)

// Exit codes. They are the same whatever the output format.
const (
	// ExitClean: everything was examined and nothing blocking was found.
	ExitClean = 0
	// ExitTainted: at least one finding at or above --fail-on.
	ExitTainted = 1
	// ExitError: bad usage, unreadable or unsupported input, I/O failure.
	ExitError = 2
	// ExitIncomplete: nothing blocking was found, but part of the input
	// could not be examined (unless --allow-incomplete).
	ExitIncomplete = 3
)

// exitCode maps a verdict to its exit code.
func exitCode(v report.Verdict) int {
	switch v {
	case report.Tainted:
		return ExitTainted
	case report.Incomplete:
		return ExitIncomplete
	case report.Clean:
		return ExitClean
	}
	return ExitError
}

// verdictError carries a non-zero exit code for a finished scan; it prints
// nothing, since the report already said why.
type verdictError struct{ code int }

func (e *verdictError) Error() string { return "" }

// usageError is a bad flag or argument; its message is followed by a hint.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

// codeOf returns the exit code for an error returned by a command.
func codeOf(err error) int {
	var ve *verdictError
	if errors.As(err, &ve) {
		return ve.code
	}
	if err != nil {
		return ExitError
	}
	return ExitClean
}
