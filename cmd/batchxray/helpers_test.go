package main

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/ui"
)

// parseFlags runs a command line through a command's flag parsing and
// returns the options its runF received, or the error. A nil factory is a
// plain one off a terminal. Success without runF being called fails the
// test.
func parseFlags[O any](t *testing.T, f *factory, newCmd func(*factory, func(context.Context, *O) error) *cobra.Command, args []string) (*O, error) {
	t.Helper()
	if f == nil {
		f = &factory{Globals: &globalOptions{Output: outputText}, Now: time.Now}
		f.IOStreams, _, _, _ = ui.Test()
	}
	var got *O
	cmd := newCmd(f, func(_ context.Context, o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.Execute()
	if err == nil && got == nil {
		t.Fatal("runF was not called")
	}
	return got, err
}

// lockedBuffer is a buffer other goroutines write into while the test reads
// it (a server's log, a command's stdout).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
