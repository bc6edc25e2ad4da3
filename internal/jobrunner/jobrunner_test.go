package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-xray-sdk-go/v2/daemoncfg"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/jobrunner/daemonenv"
)

// initCheckEnv makes the test binary, re-run by TestSDKInitIgnoresDaemonAddress,
// report what it sees once every package has initialised.
const initCheckEnv = "JOBRUNNER_TEST_INIT_CHECK"

func TestMain(m *testing.M) {
	if os.Getenv(initCheckEnv) == "1" {
		// Reaching here means the SDK's package initialised without
		// panicking on the malformed address.
		fmt.Print(os.Getenv(daemonenv.Name))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A malformed AWS_XRAY_DAEMON_ADDRESS panics inside the SDK's package
// initialisation unless daemonenv hides it; afterwards it is back.
func TestSDKInitIgnoresDaemonAddress(t *testing.T) {
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), initCheckEnv+"=1", daemonenv.Name+"=not an address")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("the process failed to start up: %v\n%s", err, out)
	}
	if string(out) != "not an address" {
		t.Errorf("after start-up %s = %q, want it restored", daemonenv.Name, out)
	}
}

func TestResolveDaemonAddress(t *testing.T) {
	tests := []struct {
		in       string
		udp, tcp string
		wantErr  string
	}{
		{in: "", udp: "127.0.0.1:2000", tcp: "127.0.0.1:2000"},
		{in: "127.0.0.1:3000", udp: "127.0.0.1:3000", tcp: "127.0.0.1:3000"},
		{in: "localhost:3000", udp: "127.0.0.1:3000", tcp: "127.0.0.1:3000"},
		{in: "tcp:127.0.0.1:3000 udp:127.0.0.2:3001", udp: "127.0.0.2:3001", tcp: "127.0.0.1:3000"},
		{in: "udp:127.0.0.2:3001 tcp:127.0.0.1:3000", udp: "127.0.0.2:3001", tcp: "127.0.0.1:3000"},
		{in: "garbage", wantErr: `"garbage" is not host:port`},
		{in: "127.0.0.1", wantErr: "is not host:port"},
		{in: "127.0.0.1:port", wantErr: "has no valid port"},
		{in: "127.0.0.1:99999", wantErr: "has no valid port"},
		{in: ":2000", wantErr: "has no host"},
		{in: "[::1]:2000", wantErr: "is not host:port"},
		{in: "tcp:127.0.0.1:3000 tcp:127.0.0.1:3001", wantErr: "one tcp: and one udp: address are needed"},
		{in: "http:127.0.0.1:3000 udp:127.0.0.1:3001", wantErr: "has no tcp: or udp: prefix"},
		{in: "a:1 b:2 c:3", wantErr: "too many spaces"},
		{in: "no-such-host.invalid:2000", wantErr: "no-such-host.invalid"},
	}
	// The SDK reads the variable before its argument.
	t.Setenv(daemonenv.Name, "")
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := resolveDaemonAddress(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				for _, want := range []string{daemonenv.Name, tc.wantErr, `want host:port or "tcp:host:port udp:host:port"`} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.UDP.String() != tc.udp || got.TCP.String() != tc.tcp {
				t.Errorf("udp %s tcp %s, want %s %s", got.UDP, got.TCP, tc.udp, tc.tcp)
			}
			// What passes here must pass in the SDK, or it would fail later.
			if tc.in != "" {
				if _, err := daemoncfg.GetDaemonEndpointsFromString(tc.in); err != nil {
					t.Errorf("the SDK refuses %q: %v", tc.in, err)
				}
			}
		})
	}
}

func TestRunRefusesABadDaemonAddress(t *testing.T) {
	d := startDaemon(t)
	o := baseOptions(d)
	o.Environ = append(o.Environ, daemonenv.Name+"=nonsense")
	o.Command = []string{"true"}
	err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), daemonenv.Name) {
		t.Fatalf("err = %v, want one naming %s", err, daemonenv.Name)
	}
}

func TestReadBatchJob(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		want    map[string]any
		local   bool
		envKeys int
	}{
		{
			name:    "a job",
			env:     append([]string{"HOME=/root"}, batchEnv...),
			want:    map[string]any{"job_id": "job-1", "job_name": "nightly", "job_queue": "batch-xray-queue", "compute_environment": "batch-xray-ce", "attempt": 2},
			envKeys: 4,
		},
		{
			name:    "an array child",
			env:     []string{"AWS_BATCH_JOB_ID=4f2c-aa:7", "AWS_BATCH_JOB_ARRAY_INDEX=7", "AWS_BATCH_JOB_ATTEMPT=1"},
			want:    map[string]any{"job_id": "4f2c-aa:7", "job_name": "nightly", "attempt": 1, "array_job_id": "4f2c-aa", "array_index": 7},
			envKeys: 3,
		},
		{
			name:  "outside Batch",
			env:   []string{"HOME=/root"},
			want:  map[string]any{"job_name": "nightly", "attempt": 1},
			local: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := readBatchJob(tc.env, "nightly")
			got := j.annotations()
			if tc.local {
				id, _ := got["job_id"].(string)
				if !strings.HasPrefix(id, "local-") || len(id) != len("local-")+16 || !j.Local {
					t.Errorf("job_id %q, local %v; want local-<16 hex>", id, j.Local)
				}
				delete(got, "job_id")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			if len(j.Env) != tc.envKeys {
				t.Errorf("%d AWS_BATCH_* variables kept, want %d: %v", len(j.Env), tc.envKeys, j.Env)
			}
		})
	}
}

func TestLocalJobSaysSo(t *testing.T) {
	d := startDaemon(t)
	o := baseOptions(d)
	o.Command = []string{"true"}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	tr := d.trace(t)
	id, _ := tr.root.Annotations["job_id"].(string)
	stderr := o.Stderr.(*syncBuffer).String()
	if !strings.HasPrefix(id, "local-") || !strings.Contains(stderr, "not in AWS Batch") || !strings.Contains(stderr, id) {
		t.Errorf("job_id %q, stderr %q; want a local ID, said on stderr", id, stderr)
	}
	if !strings.Contains(stderr, "trace "+tr.root.TraceID) || !strings.Contains(stderr, d.addr()) {
		t.Errorf("stderr %q does not give the trace ID and the daemon's address", stderr)
	}
	if !strings.Contains(stderr, "warning: nothing answers") {
		t.Errorf("stderr %q has no warning, though nothing listens on TCP", stderr)
	}
}

func TestSampleRateZeroTracesNothing(t *testing.T) {
	d := startDaemon(t)
	o := baseOptions(d, batchEnv...)
	o.SampleRate = 0
	o.Command = []string{"sh", "-c", `printf %s "$_X_AMZN_TRACE_ID"`}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := o.Stdout.(*syncBuffer).String(); !strings.HasSuffix(got, "Sampled=0") {
		t.Errorf("the command got trace header %q, want an unsampled one", got)
	}
	if got := o.Stderr.(*syncBuffer).String(); !strings.Contains(got, "not sampled") {
		t.Errorf("stderr %q does not say the job is not sampled", got)
	}
}

func TestSDKDisabled(t *testing.T) {
	t.Setenv("AWS_XRAY_SDK_DISABLED", "true") // the SDK reads the process's own
	d := startDaemon(t)
	o := baseOptions(d, batchEnv...)
	o.Command = []string{"sh", "-c", `printf %s "${_X_AMZN_TRACE_ID-unset}"`}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := o.Stdout.(*syncBuffer).String(); got != "unset" {
		t.Errorf("the command got trace header %q, want none", got)
	}
	if got := o.Stderr.(*syncBuffer).String(); !strings.Contains(got, "tracing is off (AWS_XRAY_SDK_DISABLED=true)") {
		t.Errorf("stderr %q does not say tracing is off", got)
	}
}

func TestObjectKeyAndRedaction(t *testing.T) {
	tests := []struct{ url, key, redacted string }{
		{"https://example.com/img/cat.png?X-Amz-Signature=abc", "jobs/j/1-cat.png", "https://example.com/img/cat.png"},
		{"https://example.com/", "jobs/j/1-example.com", "https://example.com/"},
		{"https://user:pw@example.com/a", "jobs/j/1-a", "https://user@example.com/a"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			if got := objectKey("j", 0, tc.url); got != tc.key {
				t.Errorf("objectKey = %q, want %q", got, tc.key)
			}
			if got := redactURL(tc.url); got != tc.redacted {
				t.Errorf("redactURL = %q, want %q", got, tc.redacted)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want outcome
	}{
		{nil, outcomeOK},
		{&httpStatusError{Code: 404}, outcomeError},
		{fmt.Errorf("wrapped: %w", &httpStatusError{Code: 429}), outcomeError},
		{&httpStatusError{Code: 503}, outcomeFault},
		{errors.New("connection refused"), outcomeFault},
		{&signalError{}, outcomeFault},
	}
	for _, tc := range tests {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// benchTracer is a tracer sending to a loopback socket that drains whatever
// arrives.
func benchTracer(b *testing.B) *xrayTracer {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	tr, err := newXRayTracer(c.LocalAddr().(*net.UDPAddr), 1, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

// BenchmarkSubsegment is the cost of one traced step: a subsegment begun,
// given a metadata value, and ended. Every 500 the segment is sent and a new
// one begun, off the clock, so the tree stays the size of a real job's.
func BenchmarkSubsegment(b *testing.B) {
	tr := benchTracer(b)
	ctx, root := tr.Begin(context.Background(), "BatchJob", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i > 0 && i%500 == 0 {
			b.StopTimer()
			root.End(nil)
			ctx, root = tr.Begin(context.Background(), "BatchJob", nil)
			b.StartTimer()
		}
		_, sp := tr.BeginChild(ctx, "step")
		sp.Metadata("n", i)
		sp.End(nil)
	}
	b.StopTimer()
	root.End(nil)
}

// BenchmarkSegmentSent is a whole small trace: a segment with five
// annotations and one subsegment, sent to the daemon.
func BenchmarkSegmentSent(b *testing.B) {
	tr := benchTracer(b)
	ann := readBatchJob(batchEnv, "nightly").annotations()
	b.ReportAllocs()
	for range b.N {
		ctx, root := tr.Begin(context.Background(), "BatchJob", nil)
		for k, v := range ann {
			root.Annotate(k, v)
		}
		_, sp := tr.BeginChild(ctx, "step")
		sp.End(nil)
		root.End(nil)
	}
}
