package jobs

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// fakeExplain answers one queue and its compute environments, and counts
// the calls so a test sees both were asked.
type fakeExplain struct {
	queue types.JobQueueDetail
	ces   []types.ComputeEnvironmentDetail
	calls int
}

func (f *fakeExplain) DescribeJobQueues(_ context.Context, in *batch.DescribeJobQueuesInput, _ ...func(*batch.Options)) (*batch.DescribeJobQueuesOutput, error) {
	f.calls++
	return &batch.DescribeJobQueuesOutput{JobQueues: []types.JobQueueDetail{f.queue}}, nil
}

func (f *fakeExplain) DescribeComputeEnvironments(_ context.Context, in *batch.DescribeComputeEnvironmentsInput, _ ...func(*batch.Options)) (*batch.DescribeComputeEnvironmentsOutput, error) {
	f.calls++
	return &batch.DescribeComputeEnvironmentsOutput{ComputeEnvironments: f.ces}, nil
}

func ce(state types.CEState, status types.CEStatus, reason string, desired, maxv int32, instanceTypes ...string) types.ComputeEnvironmentDetail {
	return types.ComputeEnvironmentDetail{
		ComputeEnvironmentName: aws.String("demo-ce"),
		State:                  state,
		Status:                 status,
		StatusReason:           aws.String(reason),
		ComputeResources:       &types.ComputeResource{Type: types.CRTypeEc2, DesiredvCpus: aws.Int32(desired), MaxvCpus: aws.Int32(maxv), InstanceTypes: instanceTypes},
	}
}

func TestExplain(t *testing.T) {
	okQueue := types.JobQueueDetail{JobQueueName: aws.String("demo-queue"), State: types.JQStateEnabled, Status: types.JQStatusValid, ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{ComputeEnvironment: aws.String("demo-ce")}}}
	tests := []struct {
		name   string
		queue  types.JobQueueDetail
		ce     types.ComputeEnvironmentDetail
		vcpus  float64
		memMiB int
		want   []string
	}{
		{
			name: "invalid compute environment", queue: okQueue, vcpus: 1, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusInvalid, "CLIENT_ERROR - the instance profile does not exist", 0, 16, "optimal"),
			want: []string{"compute environment demo-ce is ENABLED and INVALID: CLIENT_ERROR - the instance profile does not exist"},
		},
		{
			name: "full", queue: okQueue, vcpus: 1, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 16, 16, "optimal"),
			want: []string{"compute environment demo-ce is full: desired 16 of max 16 vCPUs; the job starts when running jobs finish (or raise --max-vcpus with batchxray up)"},
		},
		{
			name: "more memory than any optimal instance", queue: okQueue, vcpus: 4, memMiB: 2 * 1024 * 1024,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 256, "optimal"),
			want: []string{"the job asks for 4 vCPUs and 2097152 MiB, more than any instance type compute environment demo-ce allows (optimal; largest: r5.24xlarge 96 vCPUs/768 GiB, m5.24xlarge 96 vCPUs/384 GiB, c5.24xlarge 96 vCPUs/192 GiB, c7i.48xlarge 192 vCPUs/384 GiB, m6i.32xlarge 128 vCPUs/512 GiB, r6i.32xlarge 128 vCPUs/1024 GiB, c6i.32xlarge 128 vCPUs/256 GiB): it can never start there"},
		},
		{
			name: "too many vCPUs for an arm64 bundle", queue: okQueue, vcpus: 96, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 256, "default_arm64"),
			want: []string{"the job asks for 96 vCPUs and 2048 MiB, more than any instance type compute environment demo-ce allows (default_arm64; largest: m6g.16xlarge 64 vCPUs/256 GiB, r6g.16xlarge 64 vCPUs/512 GiB, c6g.16xlarge 64 vCPUs/128 GiB, c7g.16xlarge 64 vCPUs/128 GiB): it can never start there"},
		},
		{
			name: "a named size that fits", queue: okQueue, vcpus: 4, memMiB: 8192,
			ce: ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 64, "c5.large", "m5.xlarge"),
			// m5.xlarge has 4 vCPUs and 16 GiB: it fits.
			want: []string{"compute environment demo-ce is ENABLED and VALID, desired 0 of max 64 vCPUs", "nothing is wrong that batchxray can see: new instances take a few minutes to start and join"},
		},
		{
			name: "a named size too small", queue: okQueue, vcpus: 4, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 64, "c5.large"),
			want: []string{"the job asks for 4 vCPUs and 2048 MiB, more than any instance type compute environment demo-ce allows (c5.large; largest: c5.large 2 vCPUs/4 GiB): it can never start there"},
		},
		{
			name: "more vCPUs than maxvCpus", queue: okQueue, vcpus: 32, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 16, "optimal"),
			want: []string{"compute environment demo-ce allows at most 16 vCPUs and the job asks for 32: it can never start there"},
		},
		{
			name: "disabled queue", vcpus: 1, memMiB: 2048,
			queue: types.JobQueueDetail{JobQueueName: aws.String("demo-queue"), State: types.JQStateDisabled, Status: types.JQStatusValid, ComputeEnvironmentOrder: okQueue.ComputeEnvironmentOrder},
			ce:    ce(types.CEStateEnabled, types.CEStatusValid, "", 2, 16, "optimal"),
			want:  []string{"job queue demo-queue is DISABLED and VALID", "compute environment demo-ce is ENABLED and VALID, desired 2 of max 16 vCPUs"},
		},
		{
			name: "nothing wrong", queue: okQueue, vcpus: 1, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 2, 16, "optimal"),
			want: []string{"compute environment demo-ce is ENABLED and VALID, desired 2 of max 16 vCPUs", "nothing is wrong that batchxray can see: new instances take a few minutes to start and join"},
		},
		{
			name: "unknown instance family is not judged", queue: okQueue, vcpus: 500, memMiB: 2048,
			ce:   ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 1000, "x2iedn"),
			want: []string{"compute environment demo-ce is ENABLED and VALID, desired 0 of max 1000 vCPUs", "nothing is wrong that batchxray can see: new instances take a few minutes to start and join"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeExplain{queue: tt.queue, ces: []types.ComputeEnvironmentDetail{tt.ce}}
			lines, err := Explain(context.Background(), f, &Job{Queue: "demo-queue", VCPUs: tt.vcpus, MemoryMiB: tt.memMiB})
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "lines", tt.want, lines)
			diff(t, "calls", 2, f.calls)
		})
	}
}

func TestFitCheck(t *testing.T) {
	tests := []struct {
		vcpus       float64
		memMiB      int
		types       []string
		fits, known bool
	}{
		{2, 4096, []string{"c5.large"}, true, true},
		{2, 4097, []string{"c5.large"}, false, true},
		{8, 65536, []string{"r5.2xlarge"}, true, true},
		{192, 1024, []string{"default_x86_64"}, true, true},
		{193, 1024, []string{"default_x86_64", "default_arm64"}, false, true},
		{4, 1024, []string{"p3"}, true, false},
		{4, 1024, []string{"c5.metal"}, true, false},
	}
	for _, tt := range tests {
		fits, known, _ := fitCheck(tt.vcpus, tt.memMiB, tt.types)
		if fits != tt.fits || known != tt.known {
			t.Errorf("fitCheck(%v, %d, %v) = %v, %v; want %v, %v", tt.vcpus, tt.memMiB, tt.types, fits, known, tt.fits, tt.known)
		}
	}
}
