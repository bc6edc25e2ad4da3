package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/waiter"
)

// ReadAll reads every job's changes from the stack `up` made, with one
// query over the group: here two jobs and an array's two children, each
// with its whole walk to SUCCEEDED and the JobDetail its events carry.
func TestReadAll(t *testing.T) {
	cfg, names := upStack(t, 4)
	ctx := context.Background()
	bc := batch.NewFromConfig(cfg)
	js := jobs.Spec{Stack: "demo", Region: cfg.Region, TagKey: provision.TagKey, Queue: names.JobQueue, Definition: names.JobDefinition, Command: []string{"true"}}
	var ids []string
	for _, name := range []string{"one", "two"} {
		js.Name = name
		j, err := jobs.Submit(ctx, bc, js, jobs.SubmitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	js.Name, js.ArraySize = "fan", 2
	arr, err := jobs.Submit(ctx, bc, js, jobs.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, arr.ID+":0", arr.ID+":1")
	if _, err := jobs.Wait(ctx, bc, ids, jobs.WaitOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: time.Minute}); err != nil {
		t.Fatal(err)
	}

	lc := cloudwatchlogs.NewFromConfig(cfg)
	var got map[string][]events.Change
	ended := func() bool {
		for _, id := range ids {
			cs := got[id]
			if len(cs) == 0 || !cs[len(cs)-1].State.Terminal() {
				return false
			}
		}
		return true
	}
	err = waiter.Wait(ctx, "events", waiter.Options{MinDelay: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: 10 * time.Second}, func(ctx context.Context) (bool, error) {
		var err error
		got, err = events.ReadAll(ctx, lc, events.GroupFor("demo"), time.Now().Add(-time.Minute), time.Time{})
		return err == nil && ended(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		cs := got[id]
		if cs[0].State != jobs.Runnable && cs[0].State != jobs.Pending {
			t.Errorf("%s: first change %s, want RUNNABLE or PENDING", id, cs[0].State)
		}
		if len(cs[len(cs)-1].Detail) == 0 {
			t.Errorf("%s: the last change carries no JobDetail", id)
		}
		for i := 1; i < len(cs); i++ {
			if cs[i].At.Before(cs[i-1].At) || cs[i].State == cs[i-1].State {
				t.Errorf("%s: changes out of order or repeated: %+v", id, cs)
			}
		}
	}
	if _, err := events.ReadAll(ctx, lc, events.GroupFor("none"), time.Time{}, time.Time{}); err == nil {
		t.Error("ReadAll of a group that does not exist gave no error")
	}
}
