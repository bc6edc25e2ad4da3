package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/ui"
)

// followFake is fakeBatch as a FollowAPI. Its ExplainAPI is nil: a test
// that makes Follow explain would panic, so these tests show it did not.
type followFake struct {
	*fakeBatch
	ExplainAPI
}

// TestFollowOnce: one look, no wait; the failed array names its failed
// children, and the unknown ID is reported beside the failure.
func TestFollowOnce(t *testing.T) {
	f := &fakeBatch{t: t,
		rounds: [][]types.JobDetail{{detail("arr", types.JobStatusFailed, array(10, map[string]int32{"SUCCEEDED": 9, "FAILED": 1}), started(200), stopped(1400, 0, "1 of 10 child jobs failed"))}},
		lists: map[string][]types.JobSummary{"arr": {{
			JobId:           aws.String("arr:7"),
			ArrayProperties: &types.ArrayPropertiesSummary{Index: aws.Int32(7)},
			Container:       &types.ContainerSummary{ExitCode: aws.Int32(1)},
		}}},
	}
	js, err := Follow(context.Background(), followFake{fakeBatch: f}, []string{"arr", "nope"}, FollowOptions{Once: true})
	var (
		fe *FailedError
		nf *NotFoundError
	)
	if !errors.As(err, &fe) || !errors.As(err, &nf) || nf.IDs[0] != "nope" {
		t.Fatalf("err = %v, want a FailedError and a NotFoundError for nope", err)
	}
	if len(js) != 1 || len(js[0].Array.FailedChildren) != 1 {
		t.Fatalf("jobs = %+v, want arr with its failed child", js)
	}
	f.verify()
}

// TestFollowLookupError: when the first look fails there is nothing to
// show, only a *LookupError.
func TestFollowLookupError(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeBatch{t: t, err: boom}
	js, err := Follow(context.Background(), followFake{fakeBatch: f}, []string{"a"}, FollowOptions{Once: true})
	var le *LookupError
	if !errors.As(err, &le) || !errors.Is(err, boom) || js != nil {
		t.Fatalf("Follow = %v, %v; want no jobs and a LookupError", js, err)
	}
}

// TestFollowWaits: a job still running is followed to the end with one
// line per transition off a terminal, after the first look.
func TestFollowWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeBatch{t: t, rounds: [][]types.JobDetail{
			{detail("a", types.JobStatusRunning, started(0))},
			{detail("a", types.JobStatusRunning, started(0))},
			{detail("a", types.JobStatusSucceeded, started(0), stopped(900, 0, ""))},
		}}
		ios, _, _, errOut := ui.Test()
		js, err := Follow(context.Background(), followFake{fakeBatch: f}, []string{"a"}, FollowOptions{MaxWait: time.Minute, IO: ios})
		if err != nil || len(js) != 1 || js[0].Status != Succeeded {
			t.Fatalf("Follow = %v, %v; want a SUCCEEDED", js, err)
		}
		if n := strings.Count(errOut.String(), "\n"); n != 2 || !strings.Contains(errOut.String(), "SUCCEEDED") {
			t.Errorf("stderr = %q, want two transition lines", errOut)
		}
		f.verify()
	})
}
