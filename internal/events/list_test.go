package events_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// fakeList answers ListJobs with its script and records what it was asked.
type fakeList struct {
	t     *testing.T
	queue string
	jobs  []batchtypes.JobSummary
	asked int
}

func (f *fakeList) ListJobs(_ context.Context, in *batch.ListJobsInput, _ ...func(*batch.Options)) (*batch.ListJobsOutput, error) {
	f.asked++
	if aws.ToString(in.JobQueue) != f.queue || len(in.Filters) != 1 || aws.ToString(in.Filters[0].Name) != "AFTER_CREATED_AT" {
		f.t.Errorf("ListJobs(%s, %+v), want the queue %s with AFTER_CREATED_AT", aws.ToString(in.JobQueue), in.Filters, f.queue)
	}
	return &batch.ListJobsOutput{JobSummaryList: f.jobs}, nil
}

// List finds a job Batch forgot in the events, takes Batch's newer word
// for one it still knows, adds one the events lack (SUBMITTED sends none),
// and leaves out array children and jobs older than Since.
func TestListMergesEventsAndListJobs(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	lc := cloudwatchlogs.NewFromConfig(cfg)
	group := events.GroupFor("demo")
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	forgotten, known := "aaaaaaaa-1111-2222-3333-444455556666", "bbbbbbbb-1111-2222-3333-444455556666"
	putEvents(t, lc, group, start, []string{"RUNNABLE", "STARTING", "RUNNING", "FAILED"}, forgotten, forgotten+":0", known)
	bl := &fakeList{t: t, queue: "demo-queue", jobs: []batchtypes.JobSummary{
		{JobId: aws.String(known), JobName: aws.String("known"), Status: batchtypes.JobStatusSucceeded, CreatedAt: aws.Int64(start.UnixMilli()),
			StartedAt: aws.Int64(start.Add(2 * time.Second).UnixMilli()), StoppedAt: aws.Int64(start.Add(9 * time.Second).UnixMilli())},
		{JobId: aws.String("cccccccc-1111-2222-3333-444455556666"), JobName: aws.String("fresh"), Status: batchtypes.JobStatusSubmitted, CreatedAt: aws.Int64(start.Add(time.Minute).UnixMilli())},
	}}
	l, err := events.List(context.Background(), lc, bl, events.ListRequest{Group: group, Queue: "demo-queue", Since: start.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if bl.asked != 1 {
		t.Errorf("ListJobs called %d times, want 1", bl.asked)
	}
	var got []string
	for _, e := range l.Jobs {
		got = append(got, e.ID[:8]+" "+string(e.Status)+" "+e.Source)
	}
	want := "cccccccc SUBMITTED ListJobs,aaaaaaaa FAILED events,bbbbbbbb SUCCEEDED events+ListJobs"
	if strings.Join(got, ",") != want {
		t.Errorf("listed %v, want %s", got, want)
	}
	if l.Jobs[1].Reason != "reason FAILED" {
		t.Errorf("forgotten job's reason %q, want the last event's", l.Jobs[1].Reason)
	}
	golden.AssertString(t, "jobs-table-100.golden", events.Table(l, start.Add(time.Hour), 100))
	narrow := events.Table(l, start.Add(time.Hour), 80)
	golden.AssertString(t, "jobs-table-80.golden", narrow)
	for _, line := range strings.Split(strings.TrimSuffix(narrow, "\n"), "\n") {
		if w := len([]rune(line)); w > 80 {
			t.Errorf("line %d wide in an 80-column table: %q", w, line)
		}
	}

	failed, err := events.List(context.Background(), lc, bl, events.ListRequest{Group: group, Queue: "demo-queue", Status: jobs.Failed, NamePrefix: ""})
	if err != nil || len(failed.Jobs) != 1 || failed.Jobs[0].ID != forgotten {
		t.Errorf("--status FAILED lists %+v (%v), want the forgotten job", failed.Jobs, err)
	}
}

// A stack without the events log group lists what Batch returns, and says
// the events are missing.
func TestListWithoutEvents(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	bl := &fakeList{t: t, queue: "old-queue", jobs: []batchtypes.JobSummary{{JobId: aws.String("x"), JobName: aws.String("x"), Status: batchtypes.JobStatusRunning}}}
	l, err := events.List(context.Background(), cloudwatchlogs.NewFromConfig(cfg), bl, events.ListRequest{Group: events.GroupFor("old"), Queue: "old-queue"})
	if err != nil || !l.EventsMissing || len(l.Jobs) != 1 {
		t.Errorf("List = %+v, %v; want the one job and EventsMissing", l, err)
	}
}
