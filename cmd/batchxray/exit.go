package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, the user's contract (DESIGN.md). exitCode is the only place
// that maps errors to them.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitJobFailed   = 3
	exitNotFound    = 4
	exitTimedOut    = 124
	exitInterrupted = 130
)

// Domain packages signal what kind of failure they return by behaviour, not
// by type, so they stay free of this package: an error (or one it wraps) with
// NotFound() true maps to 4, JobFailed() true to 3, TimedOut() true to 124.
type (
	notFounder  interface{ NotFound() bool }
	jobFailer   interface{ JobFailed() bool }
	timedOuter  interface{ TimedOut() bool }
	exitCoder   interface{ ExitCode() int }
	silentError interface{ Silent() bool }
)

// usageError is a mistake in the command line: exit 2, usage printed.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usage error.
func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// passthroughError carries a child's exit code out unchanged (batchxray job
// exits with its command's code) with nothing printed.
type passthroughError struct{ code int }

func (e *passthroughError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
func (e *passthroughError) ExitCode() int { return e.code }
func (e *passthroughError) Silent() bool  { return true }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var (
		ue *usageError
		nf notFounder
		jf jobFailer
		to timedOuter
		ec exitCoder
	)
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &jf) && jf.JobFailed():
		return exitJobFailed
	case errors.As(err, &nf) && nf.NotFound():
		return exitNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &to) && to.TimedOut():
		return exitTimedOut
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	}
	return exitError
}

// printError writes the error once, as `batchxray: <what>: <why>`.
func printError(w io.Writer, err error) {
	var s silentError
	if errors.As(err, &s) && s.Silent() {
		return
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	fmt.Fprintf(w, "batchxray: %s\n", strings.TrimRight(msg, "\n"))
}

// flagErrorFunc turns cobra's flag parsing errors into usage errors.
func flagErrorFunc(_ *cobra.Command, err error) error {
	return &usageError{err}
}
