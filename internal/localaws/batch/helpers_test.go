package batch_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbatch "github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// step is the batch service's default JobStep: each state before RUNNING
// lasts at least this long on the clock.
const step = 100 * time.Millisecond

const ceDelay = 2 * time.Second

type fixture struct {
	t     *testing.T
	ctx   context.Context
	srv   *localaws.Server
	cfg   aws.Config
	clock *clockwork.FakeClock
	batch *awsbatch.Client
	logs  *cloudwatchlogs.Client
	iam   *iam.Client
}

func start(t *testing.T, opts localaws.Options) *fixture {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))
	opts.Clock = clock
	if opts.ComputeEnvironmentDelay == 0 {
		opts.ComputeEnvironmentDelay = ceDelay
	}
	srv, cfg := localawstest.Start(t, opts)
	return &fixture{
		t: t, ctx: context.Background(), srv: srv, cfg: cfg, clock: clock,
		batch: awsbatch.NewFromConfig(cfg),
		logs:  cloudwatchlogs.NewFromConfig(cfg),
		iam:   iam.NewFromConfig(cfg),
	}
}

// profile creates an instance profile holding a role, as `up` does.
func (f *fixture) profile(name string) string {
	f.t.Helper()
	if _, err := f.iam.CreateRole(f.ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	}); err != nil {
		f.t.Fatalf("CreateRole: %v", err)
	}
	out, err := f.iam.CreateInstanceProfile(f.ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		f.t.Fatalf("CreateInstanceProfile: %v", err)
	}
	if _, err := f.iam.AddRoleToInstanceProfile(f.ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)}); err != nil {
		f.t.Fatalf("AddRoleToInstanceProfile: %v", err)
	}
	return *out.InstanceProfile.Arn
}

func ceInput(name, profile string, maxv int32) *awsbatch.CreateComputeEnvironmentInput {
	return &awsbatch.CreateComputeEnvironmentInput{
		ComputeEnvironmentName: aws.String(name),
		Type:                   types.CETypeManaged,
		ComputeResources: &types.ComputeResource{
			Type:             types.CRTypeEc2,
			MinvCpus:         aws.Int32(0),
			MaxvCpus:         aws.Int32(maxv),
			InstanceTypes:    []string{"optimal"},
			Subnets:          []string{"subnet-1"},
			SecurityGroupIds: []string{"sg-1"},
			InstanceRole:     aws.String(profile),
			Ec2Configuration: []types.Ec2Configuration{{ImageType: aws.String("ECS_AL2023")}},
		},
	}
}

func (f *fixture) describeCE(name string) *types.ComputeEnvironmentDetail {
	f.t.Helper()
	out, err := f.batch.DescribeComputeEnvironments(f.ctx, &awsbatch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{name}})
	if err != nil {
		f.t.Fatalf("DescribeComputeEnvironments: %v", err)
	}
	if len(out.ComputeEnvironments) == 0 {
		return nil
	}
	return &out.ComputeEnvironments[0]
}

func (f *fixture) describeQueue(name string) *types.JobQueueDetail {
	f.t.Helper()
	out, err := f.batch.DescribeJobQueues(f.ctx, &awsbatch.DescribeJobQueuesInput{JobQueues: []string{name}})
	if err != nil {
		f.t.Fatalf("DescribeJobQueues: %v", err)
	}
	if len(out.JobQueues) == 0 {
		return nil
	}
	return &out.JobQueues[0]
}

// stack creates a VALID compute environment with maxvCpus and a VALID
// queue on it, both named name.
func (f *fixture) stack(name string, maxv int32) {
	f.t.Helper()
	in := ceInput(name, f.profile(name), maxv)
	if _, err := f.batch.CreateComputeEnvironment(f.ctx, in); err != nil {
		f.t.Fatalf("CreateComputeEnvironment: %v", err)
	}
	f.clock.Advance(ceDelay)
	if ce := f.describeCE(name); ce.Status != types.CEStatusValid {
		f.t.Fatalf("compute environment %s is %s (%s), want VALID", name, ce.Status, aws.ToString(ce.StatusReason))
	}
	if _, err := f.batch.CreateJobQueue(f.ctx, &awsbatch.CreateJobQueueInput{
		JobQueueName:            aws.String(name),
		Priority:                aws.Int32(1),
		ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(name)}},
	}); err != nil {
		f.t.Fatalf("CreateJobQueue: %v", err)
	}
	f.clock.Advance(ceDelay)
	if q := f.describeQueue(name); q.Status != types.JQStatusValid {
		f.t.Fatalf("job queue %s is %s, want VALID", name, q.Status)
	}
}

// define registers a job definition running command.
func (f *fixture) define(name string, command []string, mod func(*awsbatch.RegisterJobDefinitionInput)) string {
	f.t.Helper()
	in := &awsbatch.RegisterJobDefinitionInput{
		JobDefinitionName: aws.String(name),
		Type:              types.JobDefinitionTypeContainer,
		ContainerProperties: &types.ContainerProperties{
			Image:   aws.String("public.ecr.aws/docker/library/busybox:latest"),
			Command: command,
			ResourceRequirements: []types.ResourceRequirement{
				{Type: types.ResourceTypeVcpu, Value: aws.String("1")},
				{Type: types.ResourceTypeMemory, Value: aws.String("512")},
			},
		},
	}
	if mod != nil {
		mod(in)
	}
	out, err := f.batch.RegisterJobDefinition(f.ctx, in)
	if err != nil {
		f.t.Fatalf("RegisterJobDefinition: %v", err)
	}
	return *out.JobDefinitionArn
}

func (f *fixture) submit(in *awsbatch.SubmitJobInput) string {
	f.t.Helper()
	out, err := f.batch.SubmitJob(f.ctx, in)
	if err != nil {
		f.t.Fatalf("SubmitJob: %v", err)
	}
	return *out.JobId
}

func (f *fixture) job(id string) types.JobDetail {
	f.t.Helper()
	out, err := f.batch.DescribeJobs(f.ctx, &awsbatch.DescribeJobsInput{Jobs: []string{id}})
	if err != nil {
		f.t.Fatalf("DescribeJobs: %v", err)
	}
	if len(out.Jobs) != 1 {
		f.t.Fatalf("DescribeJobs(%s) found %d jobs", id, len(out.Jobs))
	}
	return out.Jobs[0]
}

// waitFor steps the fake clock until the job reaches want, and returns the
// job and the statuses it was seen in on the way. A job's process runs in
// real time, so the loop is bounded by a real deadline rather than by
// steps; no step is skipped, so every state before RUNNING is seen.
func (f *fixture) waitFor(id string, want types.JobStatus) (types.JobDetail, []types.JobStatus) {
	f.t.Helper()
	var seen []types.JobStatus
	deadline := time.Now().Add(30 * time.Second)
	for {
		j := f.job(id)
		if len(seen) == 0 || seen[len(seen)-1] != j.Status {
			seen = append(seen, j.Status)
		}
		if j.Status == want {
			return j, seen
		}
		if j.Status == types.JobStatusSucceeded || j.Status == types.JobStatusFailed {
			f.t.Fatalf("job %s ended %s (%s), want %s; seen %v", id, j.Status, aws.ToString(j.StatusReason), want, seen)
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("job %s still %s, want %s; seen %v", id, j.Status, want, seen)
		}
		f.clock.Advance(step)
	}
}

// inOrder reports whether seen walks Batch's states forward.
func inOrder(seen []types.JobStatus) bool {
	order := []types.JobStatus{types.JobStatusSubmitted, types.JobStatusPending, types.JobStatusRunnable,
		types.JobStatusStarting, types.JobStatusRunning, types.JobStatusSucceeded, types.JobStatusFailed}
	last := -1
	for _, s := range seen {
		i := slices.Index(order, s)
		if i < last {
			return false
		}
		last = i
	}
	return true
}

func clientException(t *testing.T, err error) {
	t.Helper()
	var ce *types.ClientException
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want ClientException", err)
	}
}

// notChecked starts the note the stand-in logs first for an image it could
// not read (busybox, from another registry, in most tests).
const notChecked = "batchxray local: the image "

// logLines reads a stream's events, without the note that the image was
// not checked.
func (f *fixture) logLines(group, stream string) []string {
	f.t.Helper()
	out, err := f.logs.GetLogEvents(f.ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true),
	})
	if err != nil {
		f.t.Fatalf("GetLogEvents %s %s: %v", group, stream, err)
	}
	var lines []string
	for _, e := range out.Events {
		if m := aws.ToString(e.Message); !strings.HasPrefix(m, notChecked) {
			lines = append(lines, m)
		}
	}
	return lines
}

// logLinesIfAny reads a stream's events, none while it does not exist yet.
func (f *fixture) logLinesIfAny(group, stream string) []string {
	f.t.Helper()
	out, err := f.logs.GetLogEvents(f.ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream), StartFromHead: aws.Bool(true),
	})
	if err != nil {
		return nil
	}
	var lines []string
	for _, e := range out.Events {
		if m := aws.ToString(e.Message); !strings.HasPrefix(m, notChecked) {
			lines = append(lines, m)
		}
	}
	return lines
}
