package traces

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/jobs"
)

// describeOnly answers DescribeJobs with the jobs it holds and counts the
// calls; ListJobs is never scripted here.
type describeOnly struct {
	t     *testing.T
	jobs  []batchtypes.JobDetail
	calls int
}

func (d *describeOnly) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	d.calls++
	out := &batch.DescribeJobsOutput{}
	for _, j := range d.jobs {
		for _, id := range in.Jobs {
			if aws.ToString(j.JobId) == id {
				out.Jobs = append(out.Jobs, j)
			}
		}
	}
	return out, nil
}

func (d *describeOnly) ListJobs(context.Context, *batch.ListJobsInput, ...func(*batch.Options)) (*batch.ListJobsOutput, error) {
	d.t.Fatal("ListJobs not scripted")
	return nil, nil
}

// TestLookupRefusesEarly: an unknown job and an index the job cannot have
// are refused after one DescribeJobs call, before any wait or X-Ray call
// (the X-Ray fake has nothing scripted, so a call would fail the test).
func TestLookupRefusesEarly(t *testing.T) {
	running := batchtypes.JobDetail{JobId: aws.String("plain"), JobName: aws.String("plain"), Status: batchtypes.JobStatusRunning, CreatedAt: aws.Int64(1764040000000)}
	two := 2
	tests := []struct {
		name  string
		id    string
		index *int
		check func(error) bool
	}{
		{"unknown job", "nope", nil, func(err error) bool {
			var nf *jobs.NotFoundError
			return errors.As(err, &nf) && nf.IDs[0] == "nope"
		}},
		{"index of a plain job", "plain", &two, func(err error) bool {
			var ie *IndexError
			return errors.As(err, &ie) && err.Error() == "job plain is not an array job"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bc := &describeOnly{t: t, jobs: []batchtypes.JobDetail{running}}
			f := NewFinder(&fakeXRay{t: t}, clockwork.NewFakeClock())
			_, err := Lookup(context.Background(), bc, f, tt.id, LookupOptions{Wait: 0, Index: tt.index})
			if !tt.check(err) {
				t.Errorf("err = %v", err)
			}
			if bc.calls != 1 {
				t.Errorf("DescribeJobs called %d times, want 1", bc.calls)
			}
		})
	}
}
