package jobrunner

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		name      string
		command   []string
		stdin     string
		wantCode  int
		wantOut   func(tr *trace, sub *xdoc, daemon string) string
		wantErr   string
		wantMsg   string // exception on the command's subsegment
		wantUsage processUsage
	}{
		{
			name:    "streams, trace header and daemon address pass through",
			command: []string{"sh", "-c", `cat; printf '%s\n' "$_X_AMZN_TRACE_ID" "$AWS_XRAY_DAEMON_ADDRESS"; echo to-stderr >&2`},
			stdin:   "from stdin\n",
			wantOut: func(tr *trace, sub *xdoc, daemon string) string {
				return "from stdin\nRoot=" + tr.root.TraceID + ";Parent=" + sub.ID + ";Sampled=1\n" + daemon + "\n"
			},
		},
		{
			name:      "the command's exit code becomes the job's",
			command:   []string{"sh", "-c", "exit 3"},
			wantCode:  3,
			wantMsg:   "command failed: exit status 3",
			wantUsage: processUsage{ExitCode: 3},
		},
		{
			name:      "a command killed by a signal exits 128 plus the signal",
			command:   []string{"sh", "-c", "kill -KILL $$"},
			wantCode:  137,
			wantMsg:   "command failed: signal: killed",
			wantUsage: processUsage{ExitCode: 137, Signal: "killed"},
		},
		{
			name:     "a command that cannot start is a fault and exits 127",
			command:  []string{"./no-such-command"},
			wantCode: 127,
			wantErr:  `start "./no-such-command"`,
			wantMsg:  "no such file or directory",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t)
			o := baseOptions(d, batchEnv...)
			o.Command = tc.command
			o.Stdin = strings.NewReader(tc.stdin)
			err := Run(context.Background(), o)
			if got := exitCode(err); got != tc.wantCode {
				t.Fatalf("exit code %d (err %v), want %d", got, err, tc.wantCode)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			tr := d.trace(t)
			name := tc.command[0]
			if name == "./no-such-command" {
				name = "no-such-command"
			}
			subs := tr.named(name)
			if len(subs) != 1 {
				t.Fatalf("%d subsegments named %q, want 1:\n%s", len(subs), name, tr.raw)
			}
			sub := subs[0]
			if got := sub.Metadata["batchxray"]["command"]; len(got.([]any)) != len(tc.command) {
				t.Errorf("metadata command = %v, want %v", got, tc.command)
			}
			if tc.wantOut != nil {
				if got, want := o.Stdout.(*syncBuffer).String(), tc.wantOut(tr, sub, d.addr()); got != want {
					t.Errorf("stdout = %q, want %q", got, want)
				}
				if got := o.Stderr.(*syncBuffer).String(); !strings.Contains(got, "to-stderr\n") {
					t.Errorf("stderr = %q, want the command's", got)
				}
			}
			if tc.wantCode == 0 {
				if sub.Fault || sub.Error || tr.root.Fault {
					t.Errorf("subsegment fault=%v error=%v, root fault=%v; want none", sub.Fault, sub.Error, tr.root.Fault)
				}
			} else {
				if !sub.Fault || !strings.Contains(sub.message(), tc.wantMsg) {
					t.Errorf("subsegment fault=%v exception %q, want a fault with %q", sub.Fault, sub.message(), tc.wantMsg)
				}
				if !tr.root.Fault {
					t.Errorf("root is not a fault")
				}
			}
			if tc.wantCode == 127 {
				if _, ok := sub.Metadata["batchxray"]["process"]; ok {
					t.Errorf("a command that never started has process metadata")
				}
				return
			}
			checkUsage(t, sub, tc.wantUsage)
		})
	}
}

// checkUsage compares the process metadata's exit code and signal, and
// checks the measured figures are there.
func checkUsage(t *testing.T, sub *xdoc, want processUsage) {
	t.Helper()
	p, ok := sub.Metadata["batchxray"]["process"].(map[string]any)
	if !ok {
		t.Fatalf("no process metadata: %v", sub.Metadata)
	}
	if got := p["exit_code"]; got != float64(want.ExitCode) {
		t.Errorf("exit_code = %v, want %d", got, want.ExitCode)
	}
	if got, _ := p["signal"].(string); got != want.Signal {
		t.Errorf("signal = %q, want %q", got, want.Signal)
	}
	for _, k := range []string{"wall_seconds", "user_cpu_seconds", "system_cpu_seconds", "max_rss_bytes"} {
		if _, ok := p[k].(float64); !ok {
			t.Errorf("process.%s missing: %v", k, p)
		}
	}
	if w := p["wall_seconds"].(float64); w <= 0 {
		t.Errorf("wall_seconds = %v", w)
	}
	if rss := p["max_rss_bytes"].(float64); rss < 1<<10 {
		t.Errorf("max_rss_bytes = %v, want a real peak", rss)
	}
}

func TestWrapSignals(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		sig      syscall.Signal
		wantCode int
		wantErr  string
		// terminated: the command's subsegment and the segment are faults
		// with cause "terminated".
		terminated bool
		wantUsage  processUsage
	}{
		{
			name:       "SIGTERM is passed on and the job ends terminated",
			script:     "echo ready; exec sleep 30",
			sig:        syscall.SIGTERM,
			wantCode:   143,
			wantErr:    "terminated",
			terminated: true,
			wantUsage:  processUsage{ExitCode: 143, Signal: "terminated"},
		},
		{
			name:       "a command ignoring SIGTERM is killed after the grace",
			script:     `trap "" TERM; echo ready; exec sleep 30`,
			sig:        syscall.SIGTERM,
			wantCode:   143,
			wantErr:    "terminated",
			terminated: true,
			wantUsage:  processUsage{ExitCode: 137, Signal: "killed"},
		},
		{
			name:      "SIGINT is passed on and the command decides",
			script:    `trap "exit 7" INT; echo ready; while :; do sleep 0.05; done`,
			sig:       syscall.SIGINT,
			wantCode:  7,
			wantErr:   "exit status 7",
			wantUsage: processUsage{ExitCode: 7},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t)
			sigs := make(chan os.Signal, 1)
			o := baseOptions(d, batchEnv...)
			o.Command = []string{"sh", "-c", tc.script}
			o.Signals = sigs
			o.Grace = 50 * time.Millisecond
			out := o.Stdout.(*syncBuffer)

			done := make(chan error, 1)
			go func() { done <- Run(context.Background(), o) }()
			select {
			case <-out.ready:
			case err := <-done:
				t.Fatalf("the job ended before its command was ready: %v", err)
			}
			sigs <- tc.sig
			err := <-done
			if got := exitCode(err); got != tc.wantCode || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v (exit %d), want %q, exit %d", err, got, tc.wantErr, tc.wantCode)
			}
			tr := d.trace(t)
			sub := tr.named("sh")[0]
			if tc.terminated {
				for _, doc := range []*xdoc{sub, tr.root} {
					if !doc.Fault || doc.message() != "terminated" || doc.InProgress {
						t.Errorf("%s fault=%v exception %q in_progress=%v, want a closed fault, cause terminated", doc.Name, doc.Fault, doc.message(), doc.InProgress)
					}
				}
			}
			checkUsage(t, sub, tc.wantUsage)
		})
	}
}
