package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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

// flagCase is one command line of a command's flag test: the options its
// runF receives, or an error that contains wantErr.
type flagCase[O any] struct {
	name    string
	args    []string
	want    O
	wantErr string
}

// testFlags runs each case through parseFlags and compares the options
// with want, the factory aside. With usage, an error must also be a usage
// error (exit 2).
func testFlags[O any](t *testing.T, newCmd func(*factory, func(context.Context, *O) error) *cobra.Command, tests []flagCase[O], usage bool) {
	t.Helper()
	var zero O
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(t, nil, newCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || (usage && !errorsAsUsage(err)) {
					t.Fatalf("err = %v, want %s%q", err, map[bool]string{true: "a usage error with "}[usage], tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, *got, cmp.AllowUnexported(zero), cmpopts.IgnoreFields(zero, "f")); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}

// stackFactory is a factory on an in-process stand-in, with the terminal
// switches set and stdin scripted.
func stackFactory(cfg aws.Config, tty bool, stdin string) (*factory, *bytes.Buffer, *bytes.Buffer) {
	f := &factory{Globals: &globalOptions{Stack: "cli", Output: outputText}, Now: time.Now}
	var in, out, errOut *bytes.Buffer
	f.IOStreams, in, out, errOut = ui.Test()
	in.WriteString(stdin)
	f.IOStreams.SetStdinTTY(tty)
	f.IOStreams.SetStdoutTTY(tty)
	f.IOStreams.SetStderrTTY(tty)
	f.AWSConfig = func(context.Context) (aws.Config, error) { return cfg, nil }
	f.Logger = func() *slog.Logger { return slog.New(slog.DiscardHandler) }
	return f, out, errOut
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
