package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/ui"
	"github.com/batchxray/batchxray/internal/waiter"
)

func TestSubmitFlags(t *testing.T) {
	base := func(mod func(*submitOptions)) submitOptions {
		o := submitOptions{spec: jobs.Spec{Name: defaultJobName}, maxWait: 24 * time.Hour, explainAfter: jobs.RunnableHint}
		if mod != nil {
			mod(&o)
		}
		return o
	}
	tests := []flagCase[submitOptions]{
		{name: "defaults", want: base(nil)},
		{
			name: "every flag",
			args: []string{"--name", "etl_1", "--array-size", "5", "--depends-on", "a", "--depends-on", "b", "--env", "K=V", "--env", "X=", "--timeout", "2m", "--retries", "3", "--vcpus", "2", "--memory", "4096", "--wait", "--max-wait", "1h", "--explain-after", "10s", "--", "python3", "etl.py", "--day", "1"},
			want: base(func(o *submitOptions) {
				o.spec = jobs.Spec{Name: "etl_1", ArraySize: 5, DependsOn: []string{"a", "b"}, Env: []string{"K=V", "X="}, Timeout: 2 * time.Minute, Attempts: 3, VCPUs: 2, MemoryMiB: 4096, Command: []string{"python3", "etl.py", "--day", "1"}}
				o.wait, o.maxWait, o.explainAfter = true, time.Hour, 10*time.Second
			}),
		},
		{name: "url", args: []string{"--url", "https://example.com/"}, want: base(func(o *submitOptions) { o.spec.URL = "https://example.com/" })},
		{name: "bad name", args: []string{"--name", "a b"}, wantErr: `invalid job name "a b"`},
		{name: "long name", args: []string{"--name", strings.Repeat("a", 129)}, wantErr: "invalid job name"},
		{name: "array too small", args: []string{"--array-size", "1"}, wantErr: "invalid array size 1: from 2 to 10000"},
		{name: "array zero", args: []string{"--array-size", "0"}, wantErr: "invalid --array-size 0"},
		{name: "array too big", args: []string{"--array-size", "10001"}, wantErr: "invalid array size 10001"},
		{name: "reserved env", args: []string{"--env", "AWS_BATCH_JOB_ID=1"}, wantErr: "reserved for Batch"},
		{name: "env without =", args: []string{"--env", "K"}, wantErr: "want KEY=VALUE"},
		{name: "short timeout", args: []string{"--timeout", "59s"}, wantErr: "no less than 1m0s"},
		{name: "retries zero", args: []string{"--retries", "0"}, wantErr: "invalid --retries 0"},
		{name: "retries eleven", args: []string{"--retries", "11"}, wantErr: "from 1 to 10 attempts"},
		{name: "stray argument", args: []string{"oops"}, wantErr: `unexpected argument "oops"`},
		{name: "empty command", args: []string{"--"}, wantErr: "no command after --"},
		{name: "url with command", args: []string{"--url", "http://x", "--", "true"}, wantErr: "cannot go with a command"},
		{name: "max wait zero", args: []string{"--max-wait", "0s"}, wantErr: "invalid --max-wait"},
	}
	testFlags(t, newSubmitCmd, tests, true)
}

// fakeBatchxray is what the stand-in runs for `batchxray job -- CMD`: CMD.
const fakeBatchxray = "#!/bin/sh\n[ \"$1\" = job ] && shift\n[ \"$1\" = -- ] && shift\n[ $# -eq 0 ] && exit 0\nexec \"$@\"\n"

// submitFixture is a stand-in with stack demo and a factory whose streams
// are buffers, terminal or not.
type submitFixture struct {
	srv *localaws.Server
	f   *factory
	c   *batch.Client
	in  *bytes.Buffer
	out *lockedBuffer
	err *bytes.Buffer
}

func (fx *submitFixture) outString() string { return fx.out.String() }

func newSubmitFixture(t *testing.T, tty bool) *submitFixture {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "batchxray")
	if err := os.WriteFile(exe, []byte(fakeBatchxray), 0o755); err != nil {
		t.Fatal(err)
	}
	srv, cfg := localawstest.Start(t, localaws.Options{Executable: exe, ComputeEnvironmentDelay: 20 * time.Millisecond})
	// As for users, the SDK retries a dropped connection.
	cfg.RetryMaxAttempts = 3
	if err := makeStack(context.Background(), cfg, "demo", 8); err != nil {
		t.Fatal(err)
	}
	ios, in, _, errOut := ui.Test()
	out := &lockedBuffer{}
	ios.Out = out
	ios.SetStdinTTY(tty)
	ios.SetStderrTTY(tty)
	f := &factory{
		IOStreams: ios,
		Now:       time.Now,
		AWSConfig: func(context.Context) (aws.Config, error) { return cfg, nil },
		Globals:   &globalOptions{Stack: "demo", Output: outputText},
		Logger:    func() *slog.Logger { return slog.New(slog.DiscardHandler) },
	}
	return &submitFixture{srv: srv, f: f, c: batch.NewFromConfig(cfg), in: in, out: out, err: errOut}
}

var jobIDLine = regexp.MustCompile(`^[0-9a-f-]{36}\n$`)

func TestRunSubmitWait(t *testing.T) {
	for _, tty := range []bool{false, true} {
		for _, tt := range []struct {
			name     string
			command  []string
			wantCode int
			want     []string
		}{
			{"succeeds", []string{"sh", "-c", "sleep 1"}, exitOK, []string{"✓ SUCCEEDED job ", "  attempt 1   exit 0, ", "  trace       batchxray trace "}},
			{"fails", []string{"sh", "-c", "sleep 1; exit 3"}, exitJobFailed, []string{"✗ FAILED", "job (", "): exit code 3", "  attempt 1   exit 3, "}},
		} {
			t.Run(tt.name+map[bool]string{false: "/plain", true: "/tty"}[tty], func(t *testing.T) {
				fx := newSubmitFixture(t, tty)
				opts := &submitOptions{f: fx.f, spec: jobs.Spec{Name: "job", Command: tt.command}, wait: true, maxWait: time.Minute, explainAfter: time.Minute}
				err := runSubmit(context.Background(), opts)
				if got := exitCode(err); got != tt.wantCode {
					t.Fatalf("exit code %d (%v), want %d", got, err, tt.wantCode)
				}
				if !jobIDLine.MatchString(fx.out.String()) {
					t.Errorf("stdout %q, want the job ID alone", fx.out.String())
				}
				stderr := fx.err.String()
				for _, w := range tt.want {
					// Colour is checked below; the words must be there.
					if !strings.Contains(ansi.Strip(stderr), w) {
						t.Errorf("stderr lacks %q:\n%s", w, stderr)
					}
				}
				rfc3339Line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* job \(`)
				if tty {
					// A live line redrawn in place, in colour, and no
					// transition lines.
					if !strings.Contains(stderr, "\r\x1b[K") || !strings.Contains(stderr, "\x1b[") {
						t.Errorf("stderr has no redrawn, coloured live line:\n%q", stderr)
					}
					if rfc3339Line.MatchString(stderr) {
						t.Errorf("stderr has transition lines on a terminal:\n%s", stderr)
					}
				} else {
					if strings.Contains(stderr, "\x1b[") || strings.Contains(stderr, "\r") {
						t.Errorf("stderr has terminal escapes off a terminal:\n%q", stderr)
					}
					if !rfc3339Line.MatchString(stderr) {
						t.Errorf("stderr has no transition lines:\n%s", stderr)
					}
				}
			})
		}
	}
}

// TestRunSubmitInterrupted cancels the wait once the job runs, as Ctrl-C
// does: on a terminal the user is asked and the job terminated on yes;
// otherwise it keeps running. Either way the exit code is 130.
func TestRunSubmitInterrupted(t *testing.T) {
	for _, tt := range []struct {
		name       string
		tty        bool
		answer     string
		wantStatus jobs.State
		want       string
	}{
		{"terminal, yes", true, "y\n", jobs.Failed, "terminated job "},
		{"terminal, no", true, "\n", jobs.Running, "keeps running; follow it with batchxray status "},
		{"not a terminal", false, "", jobs.Running, "interrupted: job "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fx := newSubmitFixture(t, tt.tty)
			fx.in.WriteString(tt.answer)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			opts := &submitOptions{f: fx.f, spec: jobs.Spec{Name: "long", Command: []string{"sleep", "60"}}, wait: true, maxWait: time.Minute, explainAfter: time.Minute}
			go func() { done <- runSubmit(ctx, opts) }()
			// The job runs in another process: poll the stand-in until it
			// is RUNNING, then interrupt.
			var id string
			err := waiter.Wait(context.Background(), "job running", waiter.Options{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: 30 * time.Second}, func(ctx context.Context) (bool, error) {
				if id == "" {
					// stdout is written once, before the wait starts.
					if s := fx.outString(); jobIDLine.MatchString(s) {
						id = strings.TrimSpace(s)
					}
					return false, nil
				}
				found, _, err := jobs.Describe(ctx, fx.c, []string{id})
				return err == nil && len(found) == 1 && found[0].Status == "RUNNING", err
			})
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			err = <-done
			if got := exitCode(err); got != exitInterrupted {
				t.Fatalf("exit code %d (%v), want 130", got, err)
			}
			if !strings.Contains(fx.err.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, fx.err.String())
			}
			found, _, err := jobs.Describe(context.Background(), fx.c, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			// A terminated job stops with SIGTERM; give it the time to.
			j := jobs.FromDetail(found[0])
			if tt.wantStatus == jobs.Failed {
				js, err := jobs.Wait(context.Background(), fx.c, []string{id}, jobs.WaitOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: 30 * time.Second})
				var fe *jobs.FailedError
				if !errors.As(err, &fe) {
					t.Fatalf("terminated job: %v, want it FAILED", err)
				}
				j = *js[0]
			}
			if j.Status != tt.wantStatus {
				t.Errorf("job is %s, want %s", j.Status, tt.wantStatus)
			}
		})
	}
}

// TestRunSubmitWithoutPutTraceSegments: credentials without
// xray:PutTraceSegments still submit the job, with its trace tagged, and
// say so in one warning on stderr.
func TestRunSubmitWithoutPutTraceSegments(t *testing.T) {
	fx := newSubmitFixture(t, false)
	fx.srv.InjectFault("xray", "PutTraceSegments", awsproto.Errorf(http.StatusForbidden, "AccessDeniedException", "not authorized to perform: xray:PutTraceSegments"), -1)
	opts := &submitOptions{f: fx.f, spec: jobs.Spec{Name: "job", Command: []string{"true"}}, maxWait: time.Minute}
	if err := runSubmit(context.Background(), opts); err != nil {
		t.Fatalf("runSubmit: %v", err)
	}
	if !jobIDLine.MatchString(fx.out.String()) {
		t.Fatalf("stdout %q, want the job ID alone", fx.out.String())
	}
	warn := regexp.MustCompile(`^warning: no submit segment in trace 1-[0-9a-f]{8}-[0-9a-f]{24}: the credentials lack xray:PutTraceSegments \(the job's own segments are still recorded\)\n$`)
	if !warn.MatchString(fx.err.String()) {
		t.Errorf("stderr %q, want the one warning", fx.err.String())
	}
	id := strings.TrimSpace(fx.out.String())
	out, err := fx.c.DescribeJobs(context.Background(), &batch.DescribeJobsInput{Jobs: []string{id}})
	if err != nil || len(out.Jobs) != 1 {
		t.Fatalf("DescribeJobs: %v", err)
	}
	if tag := out.Jobs[0].Tags[jobs.TraceTagKey]; !strings.Contains(fx.err.String(), tag) || tag == "" {
		t.Errorf("tag %s=%q, not the trace warned about", jobs.TraceTagKey, tag)
	}
}
