package jobs

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/ui"
)

const hostGone = "Host EC2 (instance i-0123456789abcdef0) terminated."

func TestHostTerminated(t *testing.T) {
	for reason, want := range map[string]bool{
		hostGone:                                true,
		"Host EC2 (instance i-1) terminated":    true,
		exited:                                  false,
		"":                                      false,
		"Job attempt duration exceeded timeout": false,
	} {
		if got := hostTerminated(reason); got != want {
			t.Errorf("hostTerminated(%q) = %v, want %v", reason, got, want)
		}
	}
}

// erringExplain fails every call, and counts them.
type erringExplain struct{ calls int }

func (e *erringExplain) DescribeJobQueues(context.Context, *batch.DescribeJobQueuesInput, ...func(*batch.Options)) (*batch.DescribeJobQueuesOutput, error) {
	e.calls++
	return nil, errors.New("throttled")
}

func (e *erringExplain) DescribeComputeEnvironments(context.Context, *batch.DescribeComputeEnvironmentsInput, ...func(*batch.Options)) (*batch.DescribeComputeEnvironmentsOutput, error) {
	e.calls++
	return nil, errors.New("throttled")
}

// TestFollowNamesSpotInterruption: a job whose attempt ended with its host
// terminated is said to have had a Spot interruption when its queue's
// compute environment is SPOT, "host terminated" when it is EC2 or cannot
// be looked up; the summary and the failure say so.
func TestFollowNamesSpotInterruption(t *testing.T) {
	spotCE := ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 16)
	spotCE.ComputeResources.Type = types.CRTypeSpot
	queue := types.JobQueueDetail{JobQueueName: aws.String("demo-queue"), ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String("demo-ce")}}}
	for _, tt := range []struct {
		name    string
		explain ExplainAPI
		want    string
	}{
		{"spot", &fakeExplain{queue: queue, ces: []types.ComputeEnvironmentDetail{spotCE}}, InterruptedSpot},
		{"ec2", &fakeExplain{queue: queue, ces: []types.ComputeEnvironmentDetail{ce(types.CEStateEnabled, types.CEStatusValid, "", 0, 16)}}, InterruptedHost},
		{"lookup fails", &erringExplain{}, InterruptedHost},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBatch{t: t, rounds: [][]types.JobDetail{{
				detail("a", types.JobStatusFailed, started(1000), stopped(5000, 0, hostGone), attempt(1000, 5000, 0, hostGone)),
				detail("b", types.JobStatusSucceeded, started(1000), stopped(5000, 0, exited), attempt(1000, 5000, 0, exited)),
			}}}
			// An attempt with a container that never exited has no code.
			f.rounds[0][0].Attempts[0].Container.ExitCode = nil
			f.rounds[0][0].Container.ExitCode = nil
			js, err := Follow(context.Background(), followFake{fakeBatch: f, ExplainAPI: tt.explain}, []string{"a", "b"}, FollowOptions{Once: true})
			var fe *FailedError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a FailedError", err)
			}
			f.verify()
			diff(t, "interruption", tt.want, js[0].Attempts[0].Interruption)
			diff(t, "the other job's", "", js[1].Attempts[0].Interruption)
			wantLine := tt.want + ": " + hostGone
			if !strings.Contains(err.Error(), wantLine) {
				t.Errorf("error = %q, want it to say %q", err, wantLine)
			}
			if strings.Count(err.Error(), hostGone) != 1 {
				t.Errorf("error = %q, want the reason once", err)
			}
			sum := Summary(js[0], t0.Add(10e9), ui.NewStyles(&bytes.Buffer{}, false))
			if !strings.Contains(sum, "attempt 1   no exit code, 4.0s, "+wantLine) {
				t.Errorf("summary:\n%s\nwant the attempt to say %q", sum, wantLine)
			}
			switch e := tt.explain.(type) {
			case *fakeExplain:
				diff(t, "explain calls (the queue, its environments, once)", 2, e.calls)
			case *erringExplain:
				diff(t, "explain calls", 1, e.calls)
			}
		})
	}
}
