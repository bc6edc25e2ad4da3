package events_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/waiter"
)

const fakeBatchxray = `#!/bin/sh
[ "$1" = job ] && shift
[ "$1" = -- ] && shift
exec "$@"
`

// upStack starts a stand-in whose jobs run fakeBatchxray and makes the
// stack "demo" on it with `up`'s provisioning, maxVCPUs big.
func upStack(t *testing.T, maxVCPUs int32) (aws.Config, provision.Names) {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "batchxray")
	if err := os.WriteFile(exe, []byte(fakeBatchxray), 0o755); err != nil {
		t.Fatal(err)
	}
	_, cfg := localawstest.Start(t, localaws.Options{Executable: exe, ComputeEnvironmentDelay: 20 * time.Millisecond})
	names, err := provision.NamesFor("demo", "000000000000", cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	p := provision.New(cfg, names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}})
	spec := provision.Spec{Partition: "aws", Arch: "x86_64", InstanceTypes: []string{"optimal"}, MaxVCPUs: maxVCPUs,
		JobVCPUs: 1, JobMemoryMiB: 512, JobTimeout: time.Hour, LogRetentionDays: 30, Image: "example.com/job:1"}
	if _, err := p.Up(context.Background(), spec, false); err != nil {
		t.Fatal(err)
	}
	return cfg, names
}

// A job that waited in RUNNABLE for a vCPU has its RUNNABLE stretch apart,
// from Batch's own events, recorded by the stack `up` made.
func TestReadRunnableForLackOfVCPUs(t *testing.T) {
	cfg, names := upStack(t, 1)
	ctx := context.Background()
	bc := batch.NewFromConfig(cfg)
	js := jobs.Spec{Stack: "demo", Region: cfg.Region, TagKey: provision.TagKey, Queue: names.JobQueue, Definition: names.JobDefinition, Name: "first", Command: []string{"sleep", "2"}}
	first, err := jobs.Submit(ctx, bc, js, jobs.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The second is submitted once the first holds the only vCPU.
	err = waiter.Wait(ctx, "first running", waiter.Options{MinDelay: 20 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxWait: 10 * time.Second}, func(ctx context.Context) (bool, error) {
		found, _, err := jobs.Describe(ctx, bc, []string{first.ID})
		return err == nil && len(found) == 1 && jobs.FromDetail(found[0]).Status == jobs.Running, err
	})
	if err != nil {
		t.Fatal(err)
	}
	js.Name, js.Command = "second", []string{"true"}
	second, err := jobs.Submit(ctx, bc, js, jobs.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := jobs.Wait(ctx, bc, []string{first.ID, second.ID}, jobs.WaitOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	lc := cloudwatchlogs.NewFromConfig(cfg)
	var changes []events.Change
	// Events arrive a little after the transitions: poll until the last.
	err = waiter.Wait(ctx, "events", waiter.Options{MinDelay: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: 10 * time.Second}, func(ctx context.Context) (bool, error) {
		got, err := events.Read(ctx, lc, events.GroupFor("demo"), second.ID, time.Time{}, time.Time{})
		changes = got[second.ID]
		return len(changes) > 0 && changes[len(changes)-1].State.Terminal(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	var states []jobs.State
	for _, c := range changes {
		states = append(states, c.State)
	}
	// The stand-in's Batch moves a job without dependencies from SUBMITTED
	// straight to RUNNABLE, so there is no PENDING event here.
	want := []jobs.State{jobs.Runnable, jobs.Starting, jobs.Running, jobs.Succeeded}
	if !equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}

	j := done[1]
	events.Apply(j, changes)
	spans := j.StateSpans()
	var got []jobs.State
	for _, s := range spans {
		got = append(got, s.State)
	}
	if !equal(got, append([]jobs.State{jobs.Submitted}, want...)) {
		t.Errorf("spans %v: want SUBMITTED then %v", got, want)
	}
	// Each state apart, in order, from the events. The second waited in
	// RUNNABLE until the first freed the one vCPU; the events' times have
	// whole seconds (as EventBridge's do), so the stretch is known to the
	// second.
	for i, sp := range spans[:len(spans)-1] {
		if sp.End.Before(sp.Start) || sp.End != spans[i+1].Start {
			t.Errorf("span %d %+v does not end where %+v starts", i, sp, spans[i+1])
		}
	}
	if !j.FromEvents {
		t.Error("FromEvents not set")
	}
}

func TestReadMissingGroup(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	_, err := events.Read(context.Background(), cloudwatchlogs.NewFromConfig(cfg), events.GroupFor("none"), "id", time.Time{}, time.Time{})
	if err == nil || errors.Unwrap(err) == nil {
		t.Errorf("Read = %v, want the group's not found", err)
	}
}

func equal(a, b []jobs.State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
