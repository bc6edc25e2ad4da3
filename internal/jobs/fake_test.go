package jobs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/google/go-cmp/cmp"
)

// fakeBatch answers DescribeJobs from a script, one round a call: round i
// holds the details of every job the i-th call may be asked about, and asked
// records which IDs each call named. ListJobs answers from lists by array
// parent. verify fails the test when a scripted answer was not used.
type fakeBatch struct {
	t      *testing.T
	rounds [][]types.JobDetail
	calls  int
	asked  [][]string
	lists  map[string][]types.JobSummary
	listed map[string]bool
	err    error
}

var _ WaitAPI = (*fakeBatch)(nil)

func (f *fakeBatch) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	if len(in.Jobs) > MaxDescribe {
		f.t.Errorf("DescribeJobs asked for %d IDs, more than %d", len(in.Jobs), MaxDescribe)
	}
	f.asked = append(f.asked, in.Jobs)
	if f.err != nil {
		return nil, f.err
	}
	if f.calls >= len(f.rounds) {
		f.t.Fatalf("DescribeJobs call %d not scripted (asked %v)", f.calls+1, in.Jobs)
	}
	round := f.rounds[f.calls]
	f.calls++
	out := &batch.DescribeJobsOutput{}
	for _, id := range in.Jobs {
		if i := slices.IndexFunc(round, func(d types.JobDetail) bool { return aws.ToString(d.JobId) == id }); i >= 0 {
			out.Jobs = append(out.Jobs, round[i])
		}
	}
	return out, nil
}

func (f *fakeBatch) ListJobs(_ context.Context, in *batch.ListJobsInput, _ ...func(*batch.Options)) (*batch.ListJobsOutput, error) {
	parent := aws.ToString(in.ArrayJobId)
	l, ok := f.lists[parent]
	if !ok || in.JobStatus != types.JobStatusFailed {
		f.t.Fatalf("ListJobs(%s, %s) not scripted", parent, in.JobStatus)
	}
	if f.listed == nil {
		f.listed = map[string]bool{}
	}
	f.listed[parent] = true
	return &batch.ListJobsOutput{JobSummaryList: l}, nil
}

// verify checks that every scripted answer was used.
func (f *fakeBatch) verify() {
	f.t.Helper()
	if f.calls != len(f.rounds) {
		f.t.Errorf("DescribeJobs called %d times, %d rounds scripted", f.calls, len(f.rounds))
	}
	for parent := range f.lists {
		if !f.listed[parent] {
			f.t.Errorf("ListJobs for %s scripted but not called", parent)
		}
	}
}

// t0 is the instant the tests measure from; at0 is it in epoch
// milliseconds, as Batch's timestamps are.
var (
	t0  = time.Date(2026, 11, 18, 3, 0, 0, 0, time.UTC)
	at0 = t0.UnixMilli()
)

// detail builds a JobDetail; mods fill in the rest.
func detail(id string, status types.JobStatus, mods ...func(*types.JobDetail)) types.JobDetail {
	d := types.JobDetail{
		JobId:         aws.String(id),
		JobName:       aws.String("job-" + id),
		JobArn:        aws.String("arn:aws:batch:us-east-1:000000000000:job/" + id),
		JobQueue:      aws.String("arn:aws:batch:us-east-1:000000000000:job-queue/demo-queue"),
		JobDefinition: aws.String("arn:aws:batch:us-east-1:000000000000:job-definition/demo-job:1"),
		Status:        status,
		CreatedAt:     aws.Int64(at0),
		Container: &types.ContainerDetail{
			ResourceRequirements: []types.ResourceRequirement{{Type: types.ResourceTypeVcpu, Value: aws.String("1")}, {Type: types.ResourceTypeMemory, Value: aws.String("2048")}},
			LogConfiguration:     &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": "/batchxray/demo"}},
		},
	}
	for _, m := range mods {
		m(&d)
	}
	return d
}

func started(ms int64) func(*types.JobDetail) {
	return func(d *types.JobDetail) {
		d.StartedAt = aws.Int64(at0 + ms)
		if d.Container == nil {
			return
		}
		d.Container.LogStreamName = aws.String(fmt.Sprintf("batchxray/default/task%d", ms))
	}
}

func stopped(ms int64, exit int32, reason string) func(*types.JobDetail) {
	return func(d *types.JobDetail) {
		d.StoppedAt = aws.Int64(at0 + ms)
		d.StatusReason = aws.String(reason)
		if d.Container != nil {
			d.Container.ExitCode = aws.Int32(exit)
		}
	}
}

func attempt(startMs, stopMs int64, exit int32, reason string) func(*types.JobDetail) {
	return func(d *types.JobDetail) {
		d.Attempts = append(d.Attempts, types.AttemptDetail{
			StartedAt:    aws.Int64(at0 + startMs),
			StoppedAt:    aws.Int64(at0 + stopMs),
			StatusReason: aws.String(reason),
			Container:    &types.AttemptContainerDetail{ExitCode: aws.Int32(exit), LogStreamName: aws.String(fmt.Sprintf("batchxray/default/task%d", startMs))},
		})
	}
}

func retries(n int32) func(*types.JobDetail) {
	return func(d *types.JobDetail) { d.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(n)} }
}

func array(size int32, summary map[string]int32) func(*types.JobDetail) {
	return func(d *types.JobDetail) {
		d.ArrayProperties = &types.ArrayPropertiesDetail{Size: aws.Int32(size), StatusSummary: summary}
		d.Container = nil
	}
}

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}
