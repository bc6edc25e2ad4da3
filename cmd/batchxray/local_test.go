package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/xray"
	"github.com/batchxray/batchxray/internal/ui"
)

func localTestFactory(log *lockedBuffer) (*factory, *bytes.Buffer, *bytes.Buffer) {
	ios, _, out, errOut := ui.Test()
	f := &factory{IOStreams: ios, Now: time.Now, Globals: &globalOptions{Output: outputText}}
	f.Logger = func() *slog.Logger {
		if log == nil {
			return slog.New(slog.DiscardHandler)
		}
		return slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return f, out, errOut
}

func TestLocalFlags(t *testing.T) {
	xrayDefaults := xray.Config{IndexDelay: 3 * time.Second, Destination: "XRay", IndexingPercentage: 1, RetrievalDelay: time.Second}
	defaults := localOptions{Addr: "127.0.0.1:4566", DaemonAddr: "127.0.0.1:2000", OTLPAddr: "127.0.0.1:4318", StandIn: localaws.Options{Account: "000000000000", ComputeEnvironmentDelay: 2 * time.Second, BatchRetention: 24 * time.Hour, XRay: xrayDefaults}}
	tests := []struct {
		name    string
		args    []string
		region  string
		want    func(o *localOptions)
		wantErr string
	}{
		{name: "defaults", want: func(*localOptions) {}},
		{
			name: "every flag",
			args: []string{"--addr", "127.0.0.1:0", "--daemon-addr", "127.0.0.1:2001", "--account", "123456789012", "--ready-file", "/tmp/ready",
				"--latency", "50ms", "--throttle-rate", "0.25", "--iam-propagation", "8s", "--compute-environment-delay", "5s", "--batch-retention", "1m"},
			region: "eu-west-1",
			want: func(o *localOptions) {
				o.Addr, o.DaemonAddr, o.ReadyFile = "127.0.0.1:0", "127.0.0.1:2001", "/tmp/ready"
				o.StandIn = localaws.Options{Account: "123456789012", Region: "eu-west-1", Latency: 50 * time.Millisecond, ThrottleRate: 0.25, IAMPropagation: 8 * time.Second, ComputeEnvironmentDelay: 5 * time.Second, BatchRetention: time.Minute, XRay: xrayDefaults}
			},
		},
		{name: "endpoint URL as --addr", args: []string{"--addr", "http://127.0.0.1:4567"}, want: func(o *localOptions) { o.Addr = "127.0.0.1:4567" }},
		{name: "non-loopback addr", args: []string{"--addr", "0.0.0.0:4566"}, wantErr: "--addr 0.0.0.0:4566 is not a loopback address: the stand-in runs the commands it is sent, so anyone who reaches it can run commands here; pass --allow-remote to serve it there anyway"},
		{name: "every interface", args: []string{"--addr", ":4566"}, wantErr: "--addr :4566 is not a loopback address: the stand-in runs the commands it is sent, so anyone who reaches it can run commands here; pass --allow-remote to serve it there anyway"},
		{name: "non-loopback addr allowed", args: []string{"--addr", "0.0.0.0:4566", "--allow-remote"}, want: func(o *localOptions) { o.Addr = "0.0.0.0:4566"; o.StandIn.AllowRemote = true }},
		{name: "localhost addr", args: []string{"--addr", "localhost:4566"}, want: func(o *localOptions) { o.Addr = "localhost:4566" }},
		{name: "IPv6 loopback addr", args: []string{"--addr", "[::1]:4566"}, want: func(o *localOptions) { o.Addr = "[::1]:4566" }},
		{name: "throttle rate above 1", args: []string{"--throttle-rate", "1.5"}, wantErr: "invalid --throttle-rate 1.5: want a share from 0 to 1"},
		{name: "negative latency", args: []string{"--latency", "-1s"}, wantErr: "--latency, --iam-propagation and --compute-environment-delay cannot be negative"},
		{name: "no compute environment delay", args: []string{"--compute-environment-delay", "0"}, want: func(o *localOptions) { o.StandIn.ComputeEnvironmentDelay = -1 }},
		{name: "arguments", args: []string{"extra"}, wantErr: `unknown command "extra" for "local"`},
		{
			name: "transaction search",
			args: []string{"--xray-destination", "cloudwatchlogs", "--indexing-percentage", "1", "--xray-index-delay", "0", "--xray-retrieval-delay", "5s", "--otlp-addr", "127.0.0.1:0"},
			want: func(o *localOptions) {
				o.OTLPAddr = "127.0.0.1:0"
				o.StandIn.XRay = xray.Config{Destination: "CloudWatchLogs", IndexingPercentage: 1, RetrievalDelay: 5 * time.Second}
			},
		},
		{name: "indexing nothing", args: []string{"--indexing-percentage", "0"}, want: func(o *localOptions) { o.StandIn.XRay.IndexingPercentage = -1 }},
		{name: "unknown destination", args: []string{"--xray-destination", "s3"}, wantErr: `invalid --xray-destination "s3": want xray or cloudwatchlogs`},
		{name: "indexing over 100", args: []string{"--indexing-percentage", "150"}, wantErr: "invalid --indexing-percentage 150: want a percentage from 0 to 100"},
		{name: "zero batch retention", args: []string{"--batch-retention", "0s"}, wantErr: "invalid --batch-retention 0s: must be positive"},
		{name: "negative index delay", args: []string{"--xray-index-delay", "-1s"}, wantErr: "--xray-index-delay and --xray-retrieval-delay cannot be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _ := localTestFactory(nil)
			f.Globals.Region = tt.region
			got, err := parseFlags(t, f, newLocalCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
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
			tt.want(&want)
			if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(localOptions{}, "f", "onReady"), cmpopts.IgnoreUnexported(localOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunLocalServesUntilCancelled(t *testing.T) {
	var log lockedBuffer
	f, out, errOut := localTestFactory(&log)
	ready := filepath.Join(t.TempDir(), "ready")
	endpoints := make(chan string, 1)
	opts := &localOptions{
		f: f, Addr: "127.0.0.1:0", DaemonAddr: "127.0.0.1:0", ReadyFile: ready,
		StandIn: localaws.Options{Account: "123456789012"},
		onReady: func(e string) { endpoints <- e },
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runLocal(ctx, opts) }()

	var endpoint string
	select {
	case endpoint = <-endpoints:
	case err := <-done:
		t.Fatalf("runLocal returned before serving: %v", err)
	}
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") || strings.HasSuffix(endpoint, ":0") {
		t.Errorf("endpoint %q is not the bound address", endpoint)
	}
	if b, err := os.ReadFile(ready); err != nil || string(b) != endpoint+"\n" {
		t.Errorf("ready file = %q, %v; want %q", b, err, endpoint+"\n")
	}

	client := sts.New(sts.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity through the served endpoint: %v", err)
	}
	if aws.ToString(id.Account) != "123456789012" {
		t.Errorf("account %q, want the --account value", aws.ToString(id.Account))
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runLocal after cancel = %v, want nil (exit 0)", err)
	}
	if _, err := os.Stat(ready); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ready file still there after stop: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", out)
	}
	wantExport := "export AWS_ENDPOINT_URL=" + endpoint + " AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local\n"
	if !strings.Contains(errOut.String(), "\n"+wantExport) || !strings.HasSuffix(errOut.String(), "batchxray local: stopped\n") {
		t.Errorf("stderr = %q, want the export line %q and the stop line", errOut, wantExport)
	}
	if !regexp.MustCompile(`X-Ray daemon on 127\.0\.0\.1:[1-9]\d* \(UDP and TCP\)`).MatchString(errOut.String()) {
		t.Errorf("stderr = %q, want the daemon's bound address", errOut)
	}
	if !strings.Contains(log.String(), "service=sts operation=GetCallerIdentity") {
		t.Errorf("debug log %q does not show the request", log.String())
	}
}

func TestRunLocalPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, _, _ := localTestFactory(nil)
	addr := ln.Addr().String()
	err = runLocal(context.Background(), &localOptions{f: f, Addr: addr, ReadyFile: filepath.Join(t.TempDir(), "ready")})
	want := "listen on " + addr + ": address already in use (is another batchxray local running? use --addr)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if code := exitCode(err); code != exitError {
		t.Errorf("exit code %d, want %d", code, exitError)
	}
}

func TestRunLocalDaemonPortInUse(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	f, _, _ := localTestFactory(nil)
	addr := pc.LocalAddr().String()
	ready := filepath.Join(t.TempDir(), "ready")
	err = runLocal(context.Background(), &localOptions{f: f, Addr: "127.0.0.1:0", DaemonAddr: addr, ReadyFile: ready})
	want := "start the X-Ray daemon on " + addr + ": address already in use (is another batchxray local or X-Ray daemon running? use --daemon-addr)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if _, err := os.Stat(ready); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ready file written although the stand-in did not start: %v", err)
	}
}

// TestLocalKilledTakesItsJobsWithIt: `batchxray local` killed with SIGKILL
// (no chance to clean up) leaves no job process behind: not the job's own
// process, and not what that started (batchxray job -- sh, and the shell's
// background sleep), as a task's end on AWS ends every process in its PID
// namespace.
func TestLocalKilledTakesItsJobsWithIt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux ties a child's life to its parent's (Pdeathsig)")
	}
	bin, err := exec.LookPath("batchxray")
	if err != nil {
		t.Fatalf("the test binary as batchxray (testscript.Main puts it on PATH): %v", err)
	}
	ready := filepath.Join(t.TempDir(), "ready")
	standIn := exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--daemon-addr", "127.0.0.1:0",
		"--ready-file", ready, "--compute-environment-delay", "0")
	if err := standIn.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = standIn.Process.Kill()
			_ = standIn.Wait()
		}
	})
	var endpoint string
	poll(t, "the stand-in's ready file", func() bool {
		b, err := os.ReadFile(ready)
		endpoint = strings.TrimSpace(string(b))
		return err == nil && endpoint != ""
	})

	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	iamc, bc, lc := iam.NewFromConfig(cfg), batch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = iamc.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p")})
	step("CreateInstanceProfile", err)
	_, err = bc.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{ComputeEnvironmentName: aws.String("ce"), Type: batchtypes.CETypeManaged,
		ComputeResources: &batchtypes.ComputeResource{Type: batchtypes.CRTypeEc2, MaxvCpus: aws.Int32(4), InstanceTypes: []string{"optimal"},
			Subnets: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"}, InstanceRole: aws.String("p")}})
	step("CreateComputeEnvironment", err)
	poll(t, "a VALID compute environment", func() bool {
		out, err := bc.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{"ce"}})
		return err == nil && len(out.ComputeEnvironments) == 1 && out.ComputeEnvironments[0].Status == batchtypes.CEStatusValid
	})
	_, err = bc.CreateJobQueue(ctx, &batch.CreateJobQueueInput{JobQueueName: aws.String("q"), Priority: aws.Int32(1),
		ComputeEnvironmentOrder: []batchtypes.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String("ce")}}})
	step("CreateJobQueue", err)
	poll(t, "a VALID job queue", func() bool {
		out, err := bc.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{"q"}})
		return err == nil && len(out.JobQueues) == 1 && out.JobQueues[0].Status == batchtypes.JQStatusValid
	})
	// The job's process starts a child of its own, as `batchxray job --`
	// does, and that one a grandchild: all must go.
	def, err := bc.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{JobDefinitionName: aws.String("long"), Type: batchtypes.JobDefinitionTypeContainer,
		ContainerProperties: &batchtypes.ContainerProperties{Image: aws.String("public.ecr.aws/docker/library/busybox:latest"),
			Command:     []string{"batchxray", "job", "--", "sh", "-c", "sleep 600 & echo pid=$$; echo pid=$!; wait"},
			Environment: []batchtypes.KeyValuePair{{Name: aws.String("AWS_REGION"), Value: aws.String("us-east-1")}},
			ResourceRequirements: []batchtypes.ResourceRequirement{
				{Type: batchtypes.ResourceTypeVcpu, Value: aws.String("1")}, {Type: batchtypes.ResourceTypeMemory, Value: aws.String("2048")}}}})
	step("RegisterJobDefinition", err)
	sub, err := bc.SubmitJob(ctx, &batch.SubmitJobInput{JobName: aws.String("long"), JobQueue: aws.String("q"), JobDefinition: def.JobDefinitionArn})
	step("SubmitJob", err)

	var pids []int
	poll(t, "the job's pids in its log", func() bool {
		out, err := bc.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: []string{aws.ToString(sub.JobId)}})
		if err != nil || len(out.Jobs) != 1 || out.Jobs[0].Container == nil || out.Jobs[0].Container.LogStreamName == nil {
			return false
		}
		if j := out.Jobs[0]; j.Status == batchtypes.JobStatusFailed || j.Status == batchtypes.JobStatusSucceeded {
			t.Fatalf("job %s (%s, %s) before it logged its pids", j.Status, aws.ToString(j.StatusReason), aws.ToString(j.Container.Reason))
		}
		ev, err := lc.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/batch/job"),
			LogStreamName: out.Jobs[0].Container.LogStreamName, StartFromHead: aws.Bool(true)})
		if err != nil {
			return false
		}
		pids = nil
		for _, e := range ev.Events {
			if v, ok := strings.CutPrefix(aws.ToString(e.Message), "pid="); ok {
				if pid, err := strconv.Atoi(v); err == nil {
					pids = append(pids, pid)
				}
			}
		}
		return len(pids) == 2
	})
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("job process %d is not running before the stand-in is killed", pid)
		}
	}

	killed = true
	if err := standIn.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = standIn.Wait()
	for _, pid := range pids {
		poll(t, fmt.Sprintf("job process %d to be gone", pid), func() bool { return !alive(pid) })
	}
}

// alive reports whether pid runs: it exists and is no zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// poll checks cond on each tick until it holds or a deadline passes: what
// it waits for happens in another process, in real time. The deadline is
// generous; nothing here asserts how long it takes.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

func TestRunLocalAllowRemoteWarns(t *testing.T) {
	f, _, errOut := localTestFactory(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	opts := &localOptions{f: f, Addr: "127.0.0.1:0", DaemonAddr: "127.0.0.1:0", StandIn: localaws.Options{AllowRemote: true}}
	if err := runLocal(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if want := "batchxray local: warning: --allow-remote: anyone who can reach 127.0.0.1:0 can run commands on this machine\n"; !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("stderr = %q, want it to start with %q", errOut, want)
	}
}
