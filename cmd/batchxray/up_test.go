package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/provision"
)

func TestUpFlags(t *testing.T) {
	def := upOptions{spec: provision.Spec{Arch: "x86_64", InstanceTypes: []string{"optimal"}, MaxVCPUs: 16, JobVCPUs: 1, JobMemoryMiB: 2048,
		JobTimeout: time.Hour, LogRetentionDays: 30, SampleURL: defaultSampleURL, Agent: "xray-daemon", Tracer: "xray"}}
	with := func(change func(o *upOptions)) upOptions {
		o := def
		change(&o)
		return o
	}
	tests := []flagCase[upOptions]{
		{name: "defaults", want: def},
		{name: "arm64 takes Graviton types", args: []string{"--arch", "arm64", "--job-binary", "./bx"},
			want: with(func(o *upOptions) {
				o.spec.Arch, o.spec.InstanceTypes, o.jobBinary = "arm64", []string{"default_arm64"}, "./bx"
			})},
		{name: "every flag", args: []string{"--instance-types", "c6i.large,c6i.xlarge", "--max-vcpus", "64", "--job-vcpus", "2", "--job-memory", "4096",
			"--job-timeout", "2h", "--log-retention", "90", "--image", "example.com/job:1", "--sample-url", "http://x/", "--daemon-version", "3.3.13", "--dry-run"},
			want: with(func(o *upOptions) {
				o.spec.InstanceTypes, o.spec.MaxVCPUs, o.spec.JobVCPUs, o.spec.JobMemoryMiB = []string{"c6i.large", "c6i.xlarge"}, 64, 2, 4096
				o.spec.JobTimeout, o.spec.LogRetentionDays, o.spec.Image, o.spec.SampleURL, o.spec.DaemonVersion, o.dryRun = 2*time.Hour, 90, "example.com/job:1", "http://x/", "3.3.13", true
			})},
		{name: "bad arch", args: []string{"--arch", "sparc"}, wantErr: `invalid --arch "sparc": want x86_64 or arm64`},
		{name: "image and binary", args: []string{"--image", "a", "--job-binary", "b"}, wantErr: "--image and --job-binary exclude each other"},
		{name: "short timeout", args: []string{"--job-timeout", "30s"}, wantErr: "Batch needs at least 60s"},
		{name: "job bigger than the environment", args: []string{"--job-vcpus", "32"}, wantErr: "invalid job vCPUs 32"},
		{name: "no vCPUs", args: []string{"--max-vcpus", "0"}, wantErr: "invalid max vCPUs 0"},
		{name: "arguments", args: []string{"extra"}, wantErr: `unknown command "extra"`},
		{name: "agent and tracer", args: []string{"--agent", "cloudwatch", "--tracer", "otel", "--base-image", "example.com/python:3"},
			want: with(func(o *upOptions) {
				o.spec.Agent, o.spec.Tracer, o.baseImage = "cloudwatch", "otel", "example.com/python:3"
			})},
		{name: "bad agent", args: []string{"--agent", "fluentd"}, wantErr: `invalid agent "fluentd": want xray-daemon or cloudwatch`},
		{name: "bad tracer", args: []string{"--tracer", "jaeger"}, wantErr: `invalid tracer "jaeger": want xray or otel`},
		{name: "daemon version for the cloudwatch agent", args: []string{"--agent", "cloudwatch", "--daemon-version", "3.3.13"}, wantErr: "is for the X-Ray daemon"},
		{name: "image and base image", args: []string{"--image", "a", "--base-image", "b"}, wantErr: "--image and --base-image exclude each other"},
		{name: "unparsable base image", args: []string{"--base-image", "Not A Ref"}, wantErr: `invalid image reference "Not A Ref"`},
	}
	testFlags(t, newUpCmd, tests, false)
}

func TestDownFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		yes  bool
	}{{nil, false}, {[]string{"--yes"}, true}, {[]string{"-y"}, true}} {
		if got, err := parseFlags(t, nil, newDownCmd, tt.args); err != nil || got.yes != tt.yes {
			t.Errorf("down %v: err %v, options %+v, want yes=%v", tt.args, err, got, tt.yes)
		}
	}
}

var fastWaits = provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}

func upArgs(f *factory) *upOptions {
	return &upOptions{f: f, spec: provision.Spec{Arch: "x86_64", InstanceTypes: []string{"optimal"}, MaxVCPUs: 4, JobVCPUs: 1, JobMemoryMiB: 512,
		JobTimeout: time.Hour, LogRetentionDays: 30, Image: "example.com/job:1"}, waits: fastWaits,
		keychain: authn.NewMultiKeychain(), imageTransport: noRegistry{}}
}

// noRegistry is a network with no registry on it, so that up's check of
// --image example.com/job:1 reads nothing, the same way everywhere.
type noRegistry struct{}

func (noRegistry) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("no registry in this test")
}

// TestRunUpAndDown brings a stack up and down on the stand-in with the
// terminal off and on: progress goes to stderr (colour and a spinner only on
// a terminal), stdout carries only data, down asks on a terminal.
func TestRunUpAndDown(t *testing.T) {
	for _, tty := range []bool{false, true} {
		t.Run(map[bool]string{false: "pipe", true: "terminal"}[tty], func(t *testing.T) {
			_, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
			ctx := context.Background()

			f, out, errOut := stackFactory(cfg, tty, "")
			if err := runUp(ctx, upArgs(f)); err != nil {
				t.Fatalf("up: %v\n%s", err, errOut)
			}
			if out.Len() != 0 {
				t.Errorf("up wrote data on stdout: %q", out)
			}
			stderr := errOut.String()
			for _, want := range []string{"up stack cli in us-east-1 (account 000000000000)\n", "created    compute environment   cli-ce", "up done: 14 created ("} {
				if !strings.Contains(stderr, want) {
					t.Errorf("up's stderr lacks %q:\n%s", want, stderr)
				}
			}
			if hasEsc := strings.Contains(stderr, "\x1b["); hasEsc != tty {
				t.Errorf("escape sequences on stderr = %v with tty = %v:\n%q", hasEsc, tty, stderr)
			}

			f, out, _ = stackFactory(cfg, tty, "")
			f.Globals.Output = outputJSON
			o := upArgs(f)
			o.dryRun, o.spec.MaxVCPUs = true, 8
			if err := runUp(ctx, o); err != nil {
				t.Fatalf("up --dry-run: %v", err)
			}
			var plan stackReport
			if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
				t.Fatalf("plan is not JSON: %v\n%s", err, out)
			}
			changes := map[string]provision.Action{}
			for _, r := range plan.Resources {
				if r.Action != provision.Unchanged {
					changes[r.Kind] = r.Action
				}
			}
			if d := cmp.Diff(map[string]provision.Action{"compute environment": provision.Update}, changes); d != "" || !plan.DryRun {
				t.Errorf("plan (dry run %v), changes (-want +got):\n%s", plan.DryRun, d)
			}

			// down: on a terminal it asks, and "n" deletes nothing; off one it
			// needs --yes.
			f, _, errOut = stackFactory(cfg, tty, "n\n")
			err := runDown(ctx, &downOptions{f: f, waits: fastWaits})
			if tty {
				if err != nil || !strings.Contains(errOut.String(), "? [y/N] nothing deleted\n") {
					t.Fatalf("down answered n: err %v, stderr %q", err, errOut)
				}
			} else if exitCode(err) != exitUsage {
				t.Fatalf("down without --yes off a terminal: %v (exit %d), want a usage error", err, exitCode(err))
			}
			f, _, errOut = stackFactory(cfg, tty, "y\n")
			if err := runDown(ctx, &downOptions{f: f, yes: !tty, waits: fastWaits}); err != nil {
				t.Fatalf("down: %v\n%s", err, errOut)
			}
			if !strings.Contains(errOut.String(), "down done: 14 deleted, 1 absent (") {
				t.Errorf("down's stderr:\n%s", errOut)
			}
		})
	}
}

// TestUpWithoutADefaultVPC: in an account with no default VPC and no
// --subnets, up says so in one line with what to do, and creates nothing.
func TestUpWithoutADefaultVPC(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond, NoDefaultVPC: true})
	f, out, errOut := stackFactory(cfg, false, "")
	err := runUp(context.Background(), upArgs(f))
	if !errors.Is(err, provision.ErrNoDefaultVPC) || exitCode(err) != exitError {
		t.Fatalf("up: %v (exit %d), want ErrNoDefaultVPC and exit %d\n%s", err, exitCode(err), exitError, errOut)
	}
	var buf bytes.Buffer
	printError(&buf, err)
	if got, want := buf.String(), "batchxray: "+provision.ErrNoDefaultVPC.Error()+"\n"; got != want {
		t.Errorf("error line = %q, want %q", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("up wrote data on stdout: %q", out)
	}
	for _, c := range srv.Calls() {
		if c.Mutating() {
			t.Errorf("up called %s %s in an account it cannot provision", c.Service, c.Operation)
		}
	}
}

// An endpoint with no container registry: up says to use --image, and what
// failed names the missing operation.
func TestUpHintsImageWithoutARegistry(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("up builds the job image from this binary only on linux")
	}
	srv, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
	srv.InjectFault("ecr", "GetAuthorizationToken", awsproto.NotImplemented("ecr", "GetAuthorizationToken"), -1)
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint())
	f, _, errOut := stackFactory(cfg, false, "")
	o := upArgs(f)
	o.spec.Image, o.spec.Arch = "", map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	err := runUp(context.Background(), o)
	if err == nil {
		t.Fatal("up succeeded without a registry")
	}
	if !strings.Contains(errOut.String(), "hint: the job image could not be pushed to ") || !strings.Contains(errOut.String(), "pass --image") {
		t.Errorf("no --image hint on stderr:\n%s", errOut)
	}
	if !strings.Contains(err.Error(), "does not implement ECR GetAuthorizationToken") {
		t.Errorf("error = %v, want it to name ECR GetAuthorizationToken", err)
	}
}

// TestUpDryRunGolden pins the whole output of `up --dry-run`, stdout and
// stderr, with the clock fixed: from nothing, as text and as JSON, and on
// a stack that is up, with flags changed. The plan lists the resources in
// the order the graph walks them.
func TestUpDryRunGolden(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
	ctx := context.Background()
	fixed := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	run := func(t *testing.T, output string, change func(o *upOptions)) string {
		t.Helper()
		f, out, errOut := stackFactory(cfg, false, "")
		f.Now = func() time.Time { return fixed }
		f.Globals.Output = output
		o := upArgs(f)
		o.dryRun = true
		if change != nil {
			change(o)
		}
		if err := runUp(ctx, o); err != nil {
			t.Fatalf("up --dry-run: %v\n%s", err, errOut)
		}
		return "-- stdout --\n" + out.String() + "-- stderr --\n" + errOut.String()
	}
	golden.AssertString(t, "up-dry-run/from-nothing.golden", run(t, outputText, nil))
	golden.AssertString(t, "up-dry-run/from-nothing-json.golden", run(t, outputJSON, nil))

	f, _, errOut := stackFactory(cfg, false, "")
	if err := runUp(ctx, upArgs(f)); err != nil {
		t.Fatalf("up: %v\n%s", err, errOut)
	}
	golden.AssertString(t, "up-dry-run/changed-flags.golden", run(t, outputText, func(o *upOptions) {
		o.spec.MaxVCPUs, o.spec.JobMemoryMiB, o.spec.DaemonVersion = 8, 1024, "3.3.13"
	}))
	golden.AssertString(t, "up-dry-run/agent-tracer.golden", run(t, outputText, func(o *upOptions) {
		o.spec.Agent, o.spec.Tracer = "cloudwatch", "otel"
	}))
}
