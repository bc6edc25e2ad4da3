package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

func TestJobFlags(t *testing.T) {
	defaults := jobOptions{ServiceName: "BatchJob", SampleRate: 1, Tracer: "xray"}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    func(*jobOptions)
		wantErr string
	}{
		{
			name: "everything from the environment, as the job definition sets it",
			env:  map[string]string{"BATCHXRAY_URL": "https://example.com/", "BATCHXRAY_BUCKET": "b", "BATCHXRAY_SERVICE_NAME": "Nightly", "BATCHXRAY_JOB_NAME": "nightly-1"},
			want: func(o *jobOptions) {
				o.URLs, o.Bucket, o.ServiceName, o.JobName = []string{"https://example.com/"}, "b", "Nightly", "nightly-1"
			},
		},
		{
			name: "flags win over the environment; --url repeats",
			env:  map[string]string{"BATCHXRAY_URL": "https://example.com/", "BATCHXRAY_BUCKET": "b"},
			args: []string{"--url", "https://a.example/", "--url", "https://b.example/x?y=1", "--bucket", "c", "--service-name", "S", "--job-name", "n", "--sample-rate", "0.25"},
			want: func(o *jobOptions) {
				o.URLs, o.Bucket, o.ServiceName, o.JobName, o.SampleRate = []string{"https://a.example/", "https://b.example/x?y=1"}, "c", "S", "n", 0.25
			},
		},
		{
			name: "the tracer and OTLP endpoint from the environment",
			env:  map[string]string{"BATCHXRAY_TRACER": "otel", "BATCHXRAY_OTLP_ENDPOINT": "https://xray.eu-west-1.amazonaws.com/v1/traces"},
			args: []string{"--", "true"},
			want: func(o *jobOptions) {
				o.Command, o.Tracer, o.OTLPEndpoint = []string{"true"}, "otel", "https://xray.eu-west-1.amazonaws.com/v1/traces"
			},
		},
		{
			name: "a tracer name the job cannot use is left to the job, which runs untraced",
			env:  map[string]string{"BATCHXRAY_TRACER": "otel"},
			args: []string{"--tracer", "jaeger", "--otlp-endpoint", "not a url", "--", "true"},
			want: func(o *jobOptions) { o.Command, o.Tracer, o.OTLPEndpoint = []string{"true"}, "jaeger", "not a url" },
		},
		{
			name: "--no-upload needs no bucket",
			args: []string{"--url", "https://a.example/", "--no-upload"},
			want: func(o *jobOptions) { o.URLs, o.NoUpload = []string{"https://a.example/"}, true },
		},
		{
			name: "a command after --, its own flags untouched",
			args: []string{"--", "python3", "train.py", "--epochs", "3"},
			want: func(o *jobOptions) { o.Command = []string{"python3", "train.py", "--epochs", "3"} },
		},
		{
			name: "a command ignores the sample work's environment",
			env:  map[string]string{"BATCHXRAY_URL": "https://example.com/"},
			args: []string{"--sample-rate", "0", "--", "true"},
			want: func(o *jobOptions) {
				o.Command, o.SampleRate, o.URLs = []string{"true"}, 0, []string{"https://example.com/"}
			},
		},
		{name: "no URL", args: []string{"--bucket", "b"}, wantErr: "no URL to fetch: pass --url or set BATCHXRAY_URL"},
		{name: "no bucket", args: []string{"--url", "https://a.example/"}, wantErr: "no bucket to upload to: pass --bucket or set BATCHXRAY_BUCKET, or pass --no-upload"},
		{name: "a command without --", args: []string{"python3"}, wantErr: `unexpected argument "python3": put the command to run after --`},
		{name: "-- and nothing", args: []string{"--"}, wantErr: "no command after --"},
		{name: "--url with a command", args: []string{"--url", "https://a.example/", "--", "true"}, wantErr: "--url is for the sample work and cannot be used with a command after --"},
		{name: "rate above 1", args: []string{"--sample-rate", "1.5", "--", "true"}, wantErr: "invalid --sample-rate 1.5: want a number from 0 to 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"BATCHXRAY_URL", "BATCHXRAY_BUCKET", "BATCHXRAY_SERVICE_NAME", "BATCHXRAY_JOB_NAME", "BATCHXRAY_TRACER", "BATCHXRAY_OTLP_ENDPOINT"} {
				t.Setenv(k, tc.env[k])
			}
			got, err := parseFlags(t, nil, newJobCmd, tc.args)
			if tc.wantErr != "" {
				var ue *usageError
				if err == nil || err.Error() != tc.wantErr || !errors.As(err, &ue) {
					t.Fatalf("err = %v, want the usage error %q", err, tc.wantErr)
				}
				if got != nil {
					t.Error("runF was called for a bad command line")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults
			if tc.want != nil {
				tc.want(&want)
			}
			if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(jobOptions{}, "f"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// segmentDoc is the little of a segment document these tests look at.
type segmentDoc struct {
	TraceID     string         `json:"trace_id"`
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	InProgress  bool           `json:"in_progress"`
	Fault       bool           `json:"fault"`
	Annotations map[string]any `json:"annotations"`
	Cause       struct {
		Exceptions []struct {
			Message string `json:"message"`
		} `json:"exceptions"`
	} `json:"cause"`
	Subsegments []segmentDoc `json:"subsegments"`
}

// listenDaemon stands in for the X-Ray daemon on a loopback UDP port.
func listenDaemon(t *testing.T) net.PacketConn {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readSegment reads datagrams until the job's complete segment arrives (the
// job sends it in progress first and streams each step as it ends) and
// returns it with the streamed subsegments put back in it.
func readSegment(t *testing.T, c net.PacketConn) segmentDoc {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	var streamed []segmentDoc
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no segment arrived: %v", err)
		}
		_, doc, ok := bytes.Cut(buf[:n], []byte("\n"))
		if !ok {
			t.Fatalf("datagram without the header line: %q", buf[:n])
		}
		var d segmentDoc
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatalf("decode %q: %v", doc, err)
		}
		switch {
		case d.Type == "subsegment":
			streamed = append(streamed, d)
		case !d.InProgress:
			d.Subsegments = append(d.Subsegments, streamed...)
			return d
		}
	}
}

// jobProcess starts the real binary (testscript put it on PATH, running
// main) as `batchxray job ARGS`, with the daemon at addr.
func jobProcess(t *testing.T, addr string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	bin, err := exec.LookPath("batchxray")
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, append([]string{"job"}, args...)...)
	c.Env = append(os.Environ(), "AWS_XRAY_DAEMON_ADDRESS="+addr, "AWS_BATCH_JOB_ID=proc-1", "AWS_BATCH_JOB_ATTEMPT=1")
	stderr := &bytes.Buffer{}
	c.Stderr = stderr
	return c, stderr
}

func TestJobProcessPassesTheExitCode(t *testing.T) {
	d := listenDaemon(t)
	c, stderr := jobProcess(t, d.LocalAddr().String(), "--", "sh", "-c", "echo out; exit 3")
	out, err := c.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("err = %v, want exit 3\n%s", err, stderr)
	}
	if string(out) != "out\n" {
		t.Errorf("stdout = %q, want the command's alone", out)
	}
	if strings.Contains(stderr.String(), "batchxray: ") {
		t.Errorf("stderr has an error line of ours; the command speaks for itself:\n%s", stderr)
	}
	seg := readSegment(t, d)
	if seg.Annotations["job_id"] != "proc-1" || !seg.Fault {
		t.Errorf("segment job_id=%v fault=%v, want proc-1 and a fault", seg.Annotations["job_id"], seg.Fault)
	}
}

// Batch stops a job with SIGTERM to the container's first process: the
// batchxray binary, which passes it on and still sends the trace.
func TestJobProcessSIGTERM(t *testing.T) {
	d := listenDaemon(t)
	c, stderr := jobProcess(t, d.LocalAddr().String(), "--", "sh", "-c", "echo ready; exec sleep 30")
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("read %q, %v; want ready", line, err)
	}
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = c.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Fatalf("err = %v, want exit 143\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "batchxray: terminated\n") {
		t.Errorf("stderr does not say it was terminated:\n%s", stderr)
	}
	seg := readSegment(t, d)
	if !seg.Fault || len(seg.Cause.Exceptions) == 0 || seg.Cause.Exceptions[0].Message != "terminated" {
		t.Errorf("segment fault=%v cause %+v, want a fault, cause terminated", seg.Fault, seg.Cause)
	}
	if len(seg.Subsegments) != 1 || !seg.Subsegments[0].Fault {
		t.Errorf("subsegments %+v, want the command's, a fault", seg.Subsegments)
	}
}

// buildBinary builds batchxray once for a benchmark, as users run it.
func buildBinary(b *testing.B) string {
	b.Helper()
	bin := b.TempDir() + "/batchxray"
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// BenchmarkJobOverhead times the whole process, `batchxray job -- CMD`
// against CMD alone, run by turns, with each tracer side by side: the X-Ray
// SDK to the stand-in's X-Ray daemon (UDP), OpenTelemetry to its host-agent
// OTLP receiver, as `batchxray local` gives a job. ratio is their wall
// times' quotient: for `true`, which does nothing, it is all overhead
// (start-up, the tracer, the flush); for about a second of CPU it is what a
// real job pays. The CPU time (user and system) of each side is reported
// too: on a loaded machine the wall times say more about the load than the
// job. It fails if a job warned or its trace did not arrive.
func BenchmarkJobOverhead(b *testing.B) {
	bin := buildBinary(b)
	srv, _ := localawstest.Start(b, localaws.Options{})
	otlp, err := srv.StartOTLP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	for _, tracerName := range []string{"xray", "otel"} {
		for _, bc := range []struct {
			name string
			cmd  []string
		}{
			{"true", []string{"true"}},
			// sha256 of 250 MB is about a second of CPU on a current core.
			{"cpu1s", []string{"sh", "-c", "head -c 250000000 /dev/zero | sha256sum >/dev/null"}},
		} {
			b.Run("tracer="+tracerName+"/cmd="+bc.name, func(b *testing.B) {
				env := append(os.Environ(), "BATCHXRAY_TRACER="+tracerName,
					"AWS_XRAY_DAEMON_ADDRESS="+srv.DaemonAddr(), "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+otlp,
					"AWS_BATCH_JOB_ID=bench", "AWS_REGION=us-east-1")
				run := func(cpu *time.Duration, argv ...string) time.Duration {
					c := exec.Command(argv[0], argv[1:]...)
					c.Env = env
					var stderr bytes.Buffer
					c.Stderr = &stderr
					start := time.Now()
					if err := c.Run(); err != nil {
						b.Fatalf("%v: %v\n%s", argv, err, &stderr)
					}
					took := time.Since(start)
					*cpu += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
					if strings.Contains(stderr.String(), "warning") {
						b.Fatalf("%v warned:\n%s", argv, &stderr)
					}
					return took
				}
				before := srv.XRay().Ingested()
				var direct, wrapped, directCPU, wrappedCPU time.Duration
				b.ResetTimer()
				for range b.N {
					direct += run(&directCPU, bc.cmd...)
					wrapped += run(&wrappedCPU, append([]string{bin, "job", "--"}, bc.cmd...)...)
				}
				b.StopTimer()
				// Each job sends at least its segment and the command's
				// subsegment; the X-Ray SDK's arrive over UDP, a moment
				// later.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := srv.XRay().WaitIngested(ctx, before+2*int64(b.N)); err != nil {
					b.Fatal(err)
				}
				ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / 1e6 }
				b.ReportMetric(ms(wrapped), "job-ms/op")
				b.ReportMetric(ms(direct), "cmd-ms/op")
				b.ReportMetric(ms(wrapped-direct), "overhead-ms/op")
				b.ReportMetric(float64(wrapped)/float64(direct), "ratio")
				b.ReportMetric(ms(wrappedCPU), "job-cpu-ms/op")
				b.ReportMetric(ms(directCPU), "cmd-cpu-ms/op")
			})
		}
	}
}

// BenchmarkStartup times `batchxray version`, the cost every CLI-side
// command pays before doing anything, and reports the binary's size.
func BenchmarkStartup(b *testing.B) {
	bin := buildBinary(b)
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
}
