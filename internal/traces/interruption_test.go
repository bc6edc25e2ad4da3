package traces

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/jobs"
)

// spotQueue answers DescribeJobQueues and DescribeComputeEnvironments for
// one queue on one compute environment of the given type, and counts the
// calls.
type spotQueue struct {
	describeOnly
	ceType batchtypes.CRType
	calls  map[string]int
}

func (s *spotQueue) DescribeJobQueues(_ context.Context, in *batch.DescribeJobQueuesInput, _ ...func(*batch.Options)) (*batch.DescribeJobQueuesOutput, error) {
	s.calls["DescribeJobQueues "+in.JobQueues[0]]++
	return &batch.DescribeJobQueuesOutput{JobQueues: []batchtypes.JobQueueDetail{{
		JobQueueName:            aws.String(in.JobQueues[0]),
		ComputeEnvironmentOrder: []batchtypes.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String("demo-ce")}},
	}}}, nil
}

func (s *spotQueue) DescribeComputeEnvironments(_ context.Context, in *batch.DescribeComputeEnvironmentsInput, _ ...func(*batch.Options)) (*batch.DescribeComputeEnvironmentsOutput, error) {
	s.calls["DescribeComputeEnvironments "+in.ComputeEnvironments[0]]++
	return &batch.DescribeComputeEnvironmentsOutput{ComputeEnvironments: []batchtypes.ComputeEnvironmentDetail{{
		ComputeEnvironmentName: aws.String("demo-ce"),
		ComputeResources:       &batchtypes.ComputeResource{Type: s.ceType},
	}}}, nil
}

// TestTraceNamesSpotInterruption: an attempt whose host was terminated is
// drawn as a Spot interruption when the job's queue runs on SPOT, and as
// Batch's bare reason on EC2, as status names it; the queue and its
// environment are looked up once.
func TestTraceNamesSpotInterruption(t *testing.T) {
	const gone = "Host EC2 (instance i-0123456789abcdef0) terminated."
	for _, tt := range []struct {
		ceType batchtypes.CRType
		want   string
	}{
		{batchtypes.CRTypeSpot, jobs.InterruptedSpot + ": " + gone},
		{batchtypes.CRTypeEc2, jobs.InterruptedHost + ": " + gone},
	} {
		t.Run(string(tt.ceType), func(t *testing.T) {
			d := batchtypes.JobDetail{
				JobId: aws.String("j"), JobName: aws.String("j"), JobQueue: aws.String("demo-queue"),
				Status: batchtypes.JobStatusFailed, StatusReason: aws.String(gone),
				CreatedAt: aws.Int64(1764040000000), StartedAt: aws.Int64(1764040001000), StoppedAt: aws.Int64(1764040005000),
				Attempts: []batchtypes.AttemptDetail{{
					StartedAt: aws.Int64(1764040001000), StoppedAt: aws.Int64(1764040005000), StatusReason: aws.String(gone),
					Container: &batchtypes.AttemptContainerDetail{},
				}},
			}
			bc := &spotQueue{describeOnly: describeOnly{t: t, jobs: []batchtypes.JobDetail{d}}, ceType: tt.ceType, calls: map[string]int{}}
			v := View{Job: jobs.FromDetail(d)}
			nameInterruptions(context.Background(), bc, &v)
			tracks := Lifecycle(v.Job, time.Time{})
			if len(tracks) != 1 || tracks[0].Reason != tt.want {
				t.Fatalf("tracks = %+v, want one with reason %q", tracks, tt.want)
			}
			if got := killReason(v.Job, 1); got != tt.want {
				t.Errorf("killReason = %q, want %q", got, tt.want)
			}
			want := map[string]int{"DescribeJobQueues demo-queue": 1, "DescribeComputeEnvironments demo-ce": 1}
			if len(bc.calls) != len(want) || bc.calls["DescribeJobQueues demo-queue"] != 1 || bc.calls["DescribeComputeEnvironments demo-ce"] != 1 {
				t.Errorf("calls = %v, want %v", bc.calls, want)
			}
		})
	}
}
