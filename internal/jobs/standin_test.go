package jobs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/waiter"
)

const testStack = "demo"

// fakeBatchxray stands in for the batchxray binary inside the stand-in's
// jobs: `batchxray job -- CMD ARGS` runs CMD ARGS and exits with its code,
// and `batchxray job` (the sample work) succeeds. The real job is tested
// end to end in cmd/batchxray.
const fakeBatchxray = `#!/bin/sh
[ "$1" = job ] && shift
[ "$1" = -- ] && shift
[ $# -eq 0 ] && exit 0
exec "$@"
`

// standIn is a stand-in with a VALID compute environment of maxv vCPUs, a
// queue and a job definition that carries the stack's tag, made with the
// Batch and IAM clients as `up` would make them.
type standIn struct {
	c    *batch.Client
	spec Spec
}

func startStandIn(t testing.TB, maxv int32) *standIn {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "batchxray")
	if err := os.WriteFile(exe, []byte(fakeBatchxray), 0o755); err != nil {
		t.Fatal(err)
	}
	_, cfg := localawstest.Start(t, localaws.Options{Executable: exe, ComputeEnvironmentDelay: 20 * time.Millisecond})
	ctx := context.Background()
	// The SDK's own retries are on, as they are for users: now and then
	// the stand-in's connection drops mid-answer (see the report), and the
	// SDK retries that.
	ic, c := iam.NewFromConfig(cfg), batch.NewFromConfig(cfg, func(o *batch.Options) { o.RetryMaxAttempts = 3 })
	name := testStack + "-instance"
	must(t, "create role", func() error {
		_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		return err
	})
	must(t, "create instance profile", func() error {
		_, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
		return err
	})
	must(t, "add role to instance profile", func() error {
		_, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)})
		return err
	})
	ce, queue, def := testStack+"-ce", testStack+"-queue", testStack+"-job"
	must(t, "create compute environment", func() error {
		_, err := c.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{
			ComputeEnvironmentName: aws.String(ce),
			Type:                   types.CETypeManaged,
			ComputeResources: &types.ComputeResource{
				Type: types.CRTypeEc2, MinvCpus: aws.Int32(0), MaxvCpus: aws.Int32(maxv),
				InstanceTypes: []string{"optimal"}, Subnets: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"},
				InstanceRole:     aws.String(name),
				Ec2Configuration: []types.Ec2Configuration{{ImageType: aws.String("ECS_AL2023")}},
			},
		})
		return err
	})
	waitValid(t, "compute environment", func() (types.CEStatus, error) {
		out, err := c.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{ce}})
		if err != nil || len(out.ComputeEnvironments) == 0 {
			return "", err
		}
		return out.ComputeEnvironments[0].Status, nil
	})
	must(t, "create job queue", func() error {
		_, err := c.CreateJobQueue(ctx, &batch.CreateJobQueueInput{
			JobQueueName: aws.String(queue), Priority: aws.Int32(1),
			ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(ce)}},
		})
		return err
	})
	waitValid(t, "job queue", func() (types.CEStatus, error) {
		out, err := c.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{queue}})
		if err != nil || len(out.JobQueues) == 0 {
			return "", err
		}
		return types.CEStatus(out.JobQueues[0].Status), nil
	})
	must(t, "register job definition", func() error {
		_, err := c.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{
			JobDefinitionName: aws.String(def),
			Type:              types.JobDefinitionTypeContainer,
			ContainerProperties: &types.ContainerProperties{
				Image:   aws.String("batchxray:local"),
				Command: []string{"batchxray", "job"},
				ResourceRequirements: []types.ResourceRequirement{
					{Type: types.ResourceTypeVcpu, Value: aws.String("1")},
					{Type: types.ResourceTypeMemory, Value: aws.String("512")},
				},
				LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/batchxray/" + testStack}},
			},
			Tags: map[string]string{"batchxray:stack": testStack},
		})
		return err
	})
	return &standIn{c: c, spec: Spec{Stack: testStack, Region: cfg.Region, TagKey: "batchxray:stack", Queue: queue, Definition: def, Name: "test"}}
}

func must(t testing.TB, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitValid polls the stand-in until a resource it creates over time is
// VALID; the stand-in's own clock moves it there.
func waitValid(t testing.TB, what string, status func() (types.CEStatus, error)) {
	t.Helper()
	err := waiter.Wait(context.Background(), what, waiter.Options{MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxWait: 10 * time.Second}, func(context.Context) (bool, error) {
		s, err := status()
		return s == types.CEStatusValid, err
	})
	if err != nil {
		t.Fatalf("wait for %s: %v", what, err)
	}
}

// fast polls the stand-in, whose states last a tenth of a second.
var fast = WaitOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: time.Minute}

func (s *standIn) submit(t *testing.T, mod func(*Spec)) Submission {
	t.Helper()
	spec := s.spec
	if mod != nil {
		mod(&spec)
	}
	sub, err := Submit(context.Background(), s.c, spec, SubmitOptions{})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	return sub
}

func TestStandInSubmitAndWait(t *testing.T) {
	s := startStandIn(t, 8)
	tests := []struct {
		name     string
		command  []string
		wantExit int
		wantErr  bool
	}{
		{"succeeds", []string{"sh", "-c", "exit 0"}, 0, false},
		{"fails", []string{"sh", "-c", "echo hi; exit 3"}, 3, true},
		{"sample work", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := s.submit(t, func(sp *Spec) { sp.Name, sp.Command = strings.ReplaceAll(tt.name, " ", "-"), tt.command })
			var states []State
			o := fast
			o.OnTransition = func(j *Job) { states = append(states, j.Status) }
			js, err := Wait(context.Background(), s.c, []string{sub.ID}, o)
			var fe *FailedError
			if got := errors.As(err, &fe); got != tt.wantErr {
				t.Fatalf("Wait: %v, want a FailedError: %v", err, tt.wantErr)
			}
			j := js[0]
			if len(j.Attempts) != 1 || j.Attempts[0].ExitCode == nil || *j.Attempts[0].ExitCode != tt.wantExit {
				t.Fatalf("attempts = %+v, want one with exit code %d", j.Attempts, tt.wantExit)
			}
			if last := states[len(states)-1]; !last.Terminal() {
				t.Errorf("last transition %s, want a terminal one", last)
			}
			if j.LogStream == "" || j.QueueWait(time.Now()) <= 0 {
				t.Errorf("log stream %q, queue wait %s: want both", j.LogStream, j.QueueWait(time.Now()))
			}
		})
	}
}

func TestStandInArrayOf50(t *testing.T) {
	s := startStandIn(t, 64)
	sub := s.submit(t, func(sp *Spec) {
		sp.Name, sp.ArraySize = "array", 50
		sp.Command = []string{"sh", "-c", `test "$AWS_BATCH_JOB_ARRAY_INDEX" != 7`}
	})
	js, err := Wait(context.Background(), s.c, []string{sub.ID}, fast)
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("Wait: %v, want a FailedError", err)
	}
	a := js[0].Array
	diff(t, "counts", map[State]int{Succeeded: 49, Failed: 1}, a.Counts)
	if len(a.FailedChildren) != 1 || a.FailedChildren[0].Index != 7 || a.FailedChildren[0].ID != sub.ID+":7" {
		t.Errorf("failed children = %+v, want child 7", a.FailedChildren)
	}
}

func TestStandInDependencyChain(t *testing.T) {
	s := startStandIn(t, 8)
	var ids []string
	for i := range 3 {
		sub := s.submit(t, func(sp *Spec) {
			sp.Name, sp.Command, sp.DependsOn = "step"+string(rune('1'+i)), []string{"sh", "-c", "exit 0"}, ids[max(0, len(ids)-1):]
		})
		ids = append(ids, sub.ID)
	}
	js, err := Wait(context.Background(), s.c, ids, fast)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(js); i++ {
		if js[i].StartedAt.Before(js[i-1].StoppedAt) {
			t.Errorf("%s started at %s, before %s stopped at %s", js[i].Name, js[i].StartedAt, js[i-1].Name, js[i-1].StoppedAt)
		}
		diff(t, "depends on", []string{ids[i-1]}, js[i].DependsOn)
	}
}

func TestStandInDescribeSeveral(t *testing.T) {
	s := startStandIn(t, 8)
	a := s.submit(t, func(sp *Spec) { sp.Command = []string{"sh", "-c", "exit 0"} })
	b := s.submit(t, func(sp *Spec) { sp.Command = []string{"sh", "-c", "exit 0"} })
	found, unknown, err := Describe(context.Background(), s.c, []string{b.ID, "no-such-job", a.ID, b.ID})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "unknown", []string{"no-such-job"}, unknown)
	diff(t, "found", []string{b.ID, a.ID}, []string{aws.ToString(found[0].JobId), aws.ToString(found[1].JobId)})
}

func TestStandInStackNotFound(t *testing.T) {
	s := startStandIn(t, 8)
	spec := s.spec
	spec.Stack, spec.Definition = "other", "other-job"
	_, err := Submit(context.Background(), s.c, spec, SubmitOptions{})
	var nf *StackNotFoundError
	if !errors.As(err, &nf) || !nf.NotFound() {
		t.Fatalf("Submit: %v, want a StackNotFoundError", err)
	}
	diff(t, "message", `stack "other" not found in us-east-1: run batchxray up`, err.Error())
}

func TestStandInExplainTooBig(t *testing.T) {
	s := startStandIn(t, 4)
	sub := s.submit(t, func(sp *Spec) { sp.VCPUs, sp.Command = 16, []string{"sh", "-c", "exit 0"} })
	found, _, err := Describe(context.Background(), s.c, []string{sub.ID})
	if err != nil {
		t.Fatal(err)
	}
	j := FromDetail(found[0])
	lines, err := Explain(context.Background(), s.c, &j)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "explanation", []string{"compute environment demo-ce allows at most 4 vCPUs and the job asks for 16: it can never start there"}, lines)
}
