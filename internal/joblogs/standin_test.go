package joblogs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/waiter"
)

// fakeBatchxray stands in for the batchxray binary in the stand-in's jobs:
// `batchxray job -- CMD ARGS` runs CMD ARGS, so the job's output is CMD's
// alone.
const fakeBatchxray = `#!/bin/sh
[ "$1" = job ] && shift
[ "$1" = -- ] && shift
exec "$@"
`

// standIn is a stand-in with a stack's compute environment, queue and job
// definition (awslogs to /batchxray/demo), and clients for Batch and Logs;
// logs counts its GetLogEvents calls.
type standIn struct {
	batch *batch.Client
	logs  *countingLogs
	spec  jobs.Spec
}

type countingLogs struct {
	*cloudwatchlogs.Client
	calls atomic.Int64
}

func (c *countingLogs) GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	c.calls.Add(1)
	return c.Client.GetLogEvents(ctx, in, o...)
}

func startStandIn(t testing.TB, opts localaws.Options) *standIn {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "batchxray")
	if err := os.WriteFile(exe, []byte(fakeBatchxray), 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Executable, opts.ComputeEnvironmentDelay = exe, 20*time.Millisecond
	_, cfg := localawstest.Start(t, opts)
	ctx := context.Background()
	ic, c := iam.NewFromConfig(cfg), batch.NewFromConfig(cfg)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("demo-instance"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must("create role", err)
	_, err = ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("demo-instance")})
	must("create instance profile", err)
	_, err = ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("demo-instance"), RoleName: aws.String("demo-instance")})
	must("add role", err)
	_, err = c.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{
		ComputeEnvironmentName: aws.String("demo-ce"), Type: types.CETypeManaged,
		ComputeResources: &types.ComputeResource{
			Type: types.CRTypeEc2, MinvCpus: aws.Int32(0), MaxvCpus: aws.Int32(8), InstanceTypes: []string{"optimal"},
			Subnets: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"}, InstanceRole: aws.String("demo-instance"),
		},
	})
	must("create compute environment", err)
	waitValid(t, func() (types.CEStatus, error) {
		out, err := c.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{"demo-ce"}})
		if err != nil || len(out.ComputeEnvironments) == 0 {
			return "", err
		}
		return out.ComputeEnvironments[0].Status, nil
	})
	_, err = c.CreateJobQueue(ctx, &batch.CreateJobQueueInput{JobQueueName: aws.String("demo-queue"), Priority: aws.Int32(1),
		ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String("demo-ce")}}})
	must("create job queue", err)
	waitValid(t, func() (types.CEStatus, error) {
		out, err := c.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{"demo-queue"}})
		if err != nil || len(out.JobQueues) == 0 {
			return "", err
		}
		return types.CEStatus(out.JobQueues[0].Status), nil
	})
	_, err = c.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{
		JobDefinitionName: aws.String("demo-job"), Type: types.JobDefinitionTypeContainer,
		ContainerProperties: &types.ContainerProperties{
			Image: aws.String("batchxray:local"), Command: []string{"batchxray", "job"},
			ResourceRequirements: []types.ResourceRequirement{{Type: types.ResourceTypeVcpu, Value: aws.String("1")}, {Type: types.ResourceTypeMemory, Value: aws.String("512")}},
			LogConfiguration:     &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/batchxray/demo", "awslogs-stream-prefix": "batchxray"}},
		},
		Tags: map[string]string{"batchxray:stack": "demo"},
	})
	must("register job definition", err)
	return &standIn{batch: c, logs: &countingLogs{Client: cloudwatchlogs.NewFromConfig(cfg)},
		spec: jobs.Spec{Stack: "demo", Region: cfg.Region, TagKey: "batchxray:stack", Queue: "demo-queue", Definition: "demo-job", Name: "test"}}
}

func waitValid(t testing.TB, status func() (types.CEStatus, error)) {
	t.Helper()
	err := waiter.Wait(context.Background(), "valid", waiter.Options{MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxWait: 10 * time.Second}, func(context.Context) (bool, error) {
		s, err := status()
		return s == types.CEStatusValid, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// run submits a job running command and waits for its end.
func (s *standIn) run(t testing.TB, attempts int, command ...string) string {
	t.Helper()
	spec := s.spec
	spec.Command, spec.Attempts = command, attempts
	sub, err := jobs.Submit(context.Background(), s.batch, spec, jobs.SubmitOptions{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	_, err = jobs.Wait(context.Background(), s.batch, []string{sub.ID}, jobs.WaitOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: time.Minute})
	var fe *jobs.FailedError
	if err != nil && !errors.As(err, &fe) {
		t.Fatalf("Wait: %v", err)
	}
	return sub.ID
}

// read collects what Read emits.
func (s *standIn) read(t testing.TB, id string, o Options) ([]Line, error) {
	t.Helper()
	var got []Line
	_, err := Read(context.Background(), s.batch, s.logs, id, o, func(ls []Line) error {
		got = append(got, ls...)
		return nil
	})
	return got, err
}

// messages are the lines' texts, less the stand-in's own first line for a
// job image it could not check (the jobs here run batchxray:local).
func messages(ls []Line) []string {
	var out []string
	for _, l := range ls {
		if strings.HasPrefix(l.Message, "batchxray local: ") {
			continue
		}
		out = append(out, l.Message)
	}
	return out
}

func numbers(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func TestReadPagesEveryLineOnce(t *testing.T) {
	s := startStandIn(t, localaws.Options{})
	// 25,000 lines are three pages of at most 10,000 events.
	id := s.run(t, 1, "seq", "1", "25000")
	got, err := s.read(t, id, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(numbers(1, 25000), messages(got)); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	// Three full pages, then the call whose token comes back unchanged.
	if n := s.logs.calls.Load(); n != 4 {
		t.Errorf("GetLogEvents calls = %d, want 4", n)
	}
	for _, l := range got {
		if l.Attempt != 1 || l.Time.IsZero() {
			t.Fatalf("line %+v: want attempt 1 and a time", l)
		}
	}

	t.Run("tail across pages", func(t *testing.T) {
		got, err := s.read(t, id, Options{Tail: 12000})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(numbers(13001, 25000), messages(got)); diff != "" {
			t.Errorf("tail (-want +got):\n%s", diff)
		}
	})
	t.Run("since after the end", func(t *testing.T) {
		got, err := s.read(t, id, Options{Since: time.Now().Add(time.Hour)})
		if err != nil || len(got) != 0 {
			t.Errorf("Read = %d lines, %v; want none", len(got), err)
		}
	})
}

func TestReadAttempts(t *testing.T) {
	s := startStandIn(t, localaws.Options{})
	id := s.run(t, 2, "sh", "-c", `echo "attempt $AWS_BATCH_JOB_ATTEMPT"; exit 4`)
	for _, tt := range []struct {
		attempt int
		want    string
	}{{0, "attempt 2"}, {1, "attempt 1"}, {2, "attempt 2"}} {
		got, err := s.read(t, id, Options{Attempt: tt.attempt})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{tt.want}, messages(got)); diff != "" {
			t.Errorf("attempt %d (-want +got):\n%s", tt.attempt, diff)
		}
	}
	_, err := s.read(t, id, Options{Attempt: 3})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("attempt 3: %v, want a NotFoundError", err)
	}

	t.Run("follow reads both and ends FAILED", func(t *testing.T) {
		got, err := s.read(t, id, Options{Attempt: 1, Follow: true, Poll: 10 * time.Millisecond})
		var fe *jobs.FailedError
		if !errors.As(err, &fe) {
			t.Errorf("Read: %v, want a FailedError", err)
		}
		want := []Line{{Attempt: 1, Message: "attempt 1"}, {Attempt: 2, Message: "attempt 2"}}
		got = slices.DeleteFunc(got, func(l Line) bool { return strings.HasPrefix(l.Message, "batchxray local: ") })
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return true })); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
	})
}

func TestReadUnknownJob(t *testing.T) {
	s := startStandIn(t, localaws.Options{})
	_, err := s.read(t, "no-such-job", Options{})
	var nf *jobs.NotFoundError
	if !errors.As(err, &nf) || !nf.NotFound() {
		t.Errorf("Read: %v, want a jobs.NotFoundError", err)
	}
}

// BenchmarkRead100000 reads a finished job's 100,000 lines, on a stand-in
// without latency and on one with 50 ms a call, as a far endpoint.
func BenchmarkRead100000(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run("latency="+latency.String(), func(b *testing.B) {
			s := startStandIn(b, localaws.Options{Latency: latency})
			id := s.run(b, 1, "seq", "1", "100000")
			s.logs.calls.Store(0)
			lines := 0
			start := time.Now()
			for b.Loop() {
				_, err := Read(context.Background(), s.batch, s.logs, id, Options{}, func(ls []Line) error {
					lines += len(ls)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			if lines != 100000*b.N {
				b.Fatalf("read %d lines in %d reads, want 100000 each", lines, b.N)
			}
			b.ReportMetric(float64(s.logs.calls.Load())/float64(b.N), "calls/op")
			b.ReportMetric(float64(lines)/time.Since(start).Seconds(), "lines/s")
		})
	}
}
