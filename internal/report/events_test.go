package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	ltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
)

// fakeBatch lists and describes the jobs it holds, and counts the calls.
type fakeBatch struct {
	jobs            []btypes.JobDetail
	lists, describe int
}

func (f *fakeBatch) ListJobs(_ context.Context, in *batch.ListJobsInput, _ ...func(*batch.Options)) (*batch.ListJobsOutput, error) {
	f.lists++
	out := &batch.ListJobsOutput{}
	for _, d := range f.jobs {
		out.JobSummaryList = append(out.JobSummaryList, btypes.JobSummary{JobId: d.JobId, JobName: d.JobName, CreatedAt: d.CreatedAt})
	}
	return out, nil
}

func (f *fakeBatch) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	f.describe++
	out := &batch.DescribeJobsOutput{}
	for _, d := range f.jobs {
		for _, id := range in.Jobs {
			if id == aws.ToString(d.JobId) {
				out.Jobs = append(out.Jobs, d)
			}
		}
	}
	return out, nil
}

// fakeXRay finds no trace: the jobs here carry none and the search is empty.
type fakeXRay struct {
	XRayAPI
	searches int
}

func (f *fakeXRay) GetTraceSummaries(context.Context, *xray.GetTraceSummariesInput, ...func(*xray.Options)) (*xray.GetTraceSummariesOutput, error) {
	f.searches++
	return &xray.GetTraceSummariesOutput{}, nil
}

// fakeLogs answers FilterLogEvents on one group with its events, in two
// pages, or that the group does not exist.
type fakeLogs struct {
	t      *testing.T
	group  string
	events []string
	calls  int
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	f.calls++
	if aws.ToString(in.LogGroupName) != f.group {
		return nil, &ltypes.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	}
	if in.FilterPattern != nil {
		f.t.Errorf("FilterLogEvents with pattern %q, want the whole group", aws.ToString(in.FilterPattern))
	}
	half := len(f.events) / 2
	page, next := f.events[:half], aws.String("2")
	if aws.ToString(in.NextToken) == "2" {
		page, next = f.events[half:], nil
	}
	out := &cloudwatchlogs.FilterLogEventsOutput{NextToken: next}
	for _, m := range page {
		out.Events = append(out.Events, ltypes.FilteredLogEvent{Message: aws.String(m)})
	}
	return out, nil
}

func ms(sec float64) *int64 { return aws.Int64(at(sec).UnixMilli()) }

// detail is a finished job as DescribeJobs (and its events) give it.
func detail(id, name string, status btypes.JobStatus) btypes.JobDetail {
	return btypes.JobDetail{
		JobId: aws.String(id), JobName: aws.String(name), Status: status,
		CreatedAt: ms(0), StartedAt: ms(40), StoppedAt: ms(50),
		Attempts: []btypes.AttemptDetail{{StartedAt: ms(40), StoppedAt: ms(50), Container: &btypes.AttemptContainerDetail{ExitCode: aws.Int32(0)}}},
	}
}

// event is the recorded Batch Job State Change of d entering state at sec.
func event(t *testing.T, eventID string, d btypes.JobDetail, state btypes.JobStatus, sec float64) string {
	d.Status = state
	detail := map[string]any{
		"jobId": d.JobId, "jobName": d.JobName, "status": d.Status, "createdAt": d.CreatedAt,
		"startedAt": d.StartedAt, "stoppedAt": d.StoppedAt,
		"attempts": []map[string]any{{"startedAt": d.StartedAt, "stoppedAt": d.StoppedAt, "container": map[string]any{"exitCode": 0}}},
	}
	if a := d.ArrayProperties; a != nil {
		detail["arrayProperties"] = map[string]any{"size": a.Size, "index": a.Index}
	}
	b, err := json.Marshal(map[string]any{
		"id": eventID, "detail-type": "Batch Job State Change", "source": "aws.batch",
		"time": at(sec).Format(time.RFC3339), "detail": detail,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGatherReadsTheJobEvents: the queue wait of a job whose events are
// recorded is its RUNNABLE stretch, not creation to start; a job Batch no
// longer returns is reported from its events; the report says so. Without
// the events group, the same jobs come from DescribeJobs and it says that.
func TestGatherReadsTheJobEvents(t *testing.T) {
	kept := detail("job-a", "etl-a", btypes.JobStatusSucceeded)
	gone := detail("job-gone", "etl-gone", btypes.JobStatusSucceeded)
	var evs []string
	for _, d := range []btypes.JobDetail{kept, gone} {
		id := aws.ToString(d.JobId)
		evs = append(evs,
			event(t, id+"-1", d, btypes.JobStatusRunnable, 10),
			event(t, id+"-2", d, btypes.JobStatusStarting, 30),
			event(t, id+"-2", d, btypes.JobStatusStarting, 30), // delivered twice
			event(t, id+"-3", d, btypes.JobStatusRunning, 40),
			event(t, id+"-4", d, btypes.JobStatusSucceeded, 50))
	}
	now := at(120)
	req := Request{Queue: "q", Since: at(-60), Until: now}

	bc := &fakeBatch{jobs: []btypes.JobDetail{kept}}
	xc := &fakeXRay{}
	logs := &fakeLogs{t: t, group: "/batchxray/demo/events", events: evs}
	g := &Gatherer{Batch: bc, XRay: xc, Clock: clockwork.NewFakeClockAt(now), Logs: logs, EventsGroup: "/batchxray/demo/events"}
	in, err := g.Gather(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if logs.calls != 2 || bc.lists != 1 || bc.describe != 1 || xc.searches != 2 {
		t.Errorf("calls: FilterLogEvents %d, ListJobs %d, DescribeJobs %d, GetTraceSummaries %d; want 2, 1, 1, 2", logs.calls, bc.lists, bc.describe, xc.searches)
	}
	var ids []string
	for _, j := range in.Jobs {
		ids = append(ids, j.ID)
		if d, _ := j.QueueWait(now); d != 20*time.Second {
			t.Errorf("%s waited %s, want 20s (RUNNABLE at 10s to STARTING at 30s)", j.ID, d)
		}
	}
	if diff := cmp.Diff([]string{"job-a", "job-gone"}, ids); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if want := (Source{EventsGroup: "/batchxray/demo/events", FromEvents: 2, Forgotten: 1}); in.Source != want {
		t.Errorf("source %+v, want %+v", in.Source, want)
	}
	f := Compute(in, now, DefaultSlowest)
	out := Render(f, Options{Width: 100})
	for _, want := range []string{
		"states from the job events in /batchxray/demo/events, 1 job Batch no longer returns",
		"Queue wait  from RUNNABLE to STARTING, as recorded",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}

	// A stack that records no events: DescribeJobs' figures, and it says so.
	g.EventsGroup = "/batchxray/old/events"
	in, err = g.Gather(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Jobs) != 1 || len(in.Jobs[0].Transitions) != 0 {
		t.Fatalf("jobs %+v: want job-a alone, without transitions", in.Jobs)
	}
	if d, _ := in.Jobs[0].QueueWait(now); d != 40*time.Second {
		t.Errorf("waited %s, want 40s (created at 0 to started at 40s)", d)
	}
	out = Render(Compute(in, now, DefaultSlowest), Options{Width: 100})
	if want := "states from DescribeJobs (no log group /batchxray/old/events)\n"; !strings.Contains(out, want) {
		t.Errorf("the report lacks %q:\n%s", want, out)
	}
}

// TestGatherJobsByIDFromTheEvents: by ID, a job Batch no longer returns,
// and a forgotten array parent's children, are rebuilt from their events
// as over a window; only an ID neither Batch nor the events know is not
// found, and without the events every forgotten ID is.
func TestGatherJobsByIDFromTheEvents(t *testing.T) {
	kept := detail("job-a", "etl-a", btypes.JobStatusSucceeded)
	gone := detail("job-gone", "etl-gone", btypes.JobStatusSucceeded)
	parent := detail("arr", "etl-fan", btypes.JobStatusSucceeded)
	parent.ArrayProperties = &btypes.ArrayPropertiesDetail{Size: aws.Int32(2)}
	var children []btypes.JobDetail
	for i := range 2 {
		c := detail(fmt.Sprintf("arr:%d", i), "etl-fan", btypes.JobStatusSucceeded)
		c.ArrayProperties = &btypes.ArrayPropertiesDetail{Index: aws.Int32(int32(i))}
		children = append(children, c)
	}
	var evs []string
	for _, d := range append([]btypes.JobDetail{kept, gone, parent}, children...) {
		id := aws.ToString(d.JobId)
		evs = append(evs,
			event(t, id+"-1", d, btypes.JobStatusRunnable, 10),
			event(t, id+"-2", d, btypes.JobStatusStarting, 30),
			event(t, id+"-3", d, btypes.JobStatusSucceeded, 50))
	}
	now := at(120)
	const group = "/batchxray/demo/events"
	newGatherer := func(group string) (*Gatherer, *fakeBatch, *fakeLogs) {
		bc := &fakeBatch{jobs: []btypes.JobDetail{kept}}
		logs := &fakeLogs{t: t, group: "/batchxray/demo/events", events: evs}
		return &Gatherer{Batch: bc, XRay: &fakeXRay{}, Clock: clockwork.NewFakeClockAt(now), Logs: logs, EventsGroup: group}, bc, logs
	}

	g, bc, logs := newGatherer(group)
	in, err := g.Gather(context.Background(), Request{Queue: "q", Jobs: []string{"job-a", "job-gone", "arr"}})
	if err != nil {
		t.Fatal(err)
	}
	if bc.describe != 1 || logs.calls != 2 {
		t.Errorf("calls: DescribeJobs %d, FilterLogEvents %d; want 1 and 2", bc.describe, logs.calls)
	}
	var ids []string
	for _, j := range in.Jobs {
		ids = append(ids, j.ID)
		if d, _ := j.QueueWait(now); d != 20*time.Second {
			t.Errorf("%s waited %s, want 20s (RUNNABLE at 10s to STARTING at 30s)", j.ID, d)
		}
	}
	if diff := cmp.Diff([]string{"arr:0", "arr:1", "job-a", "job-gone"}, ids); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if want := (Source{EventsGroup: group, FromEvents: 4, Forgotten: 3}); in.Source != want || in.Arrays != 1 {
		t.Errorf("source %+v and %d arrays, want %+v and 1", in.Source, in.Arrays, want)
	}

	// A forgotten job named by its ARN is found by the ID in it.
	in, err = g.Gather(context.Background(), Request{Queue: "q", Jobs: []string{"arn:aws:batch:us-east-1:000000000000:job/job-gone"}})
	if err != nil || len(in.Jobs) != 1 || in.Jobs[0].ID != "job-gone" {
		t.Errorf("by ARN: %v, %d jobs, want job-gone from its events", err, len(in.Jobs))
	}

	// An ID neither knows: not found, naming it alone.
	_, err = g.Gather(context.Background(), Request{Queue: "q", Jobs: []string{"job-gone", "no-such-job"}})
	var nf *NotFoundError
	if !errors.As(err, &nf) || fmt.Sprint(nf.IDs) != "[no-such-job]" {
		t.Fatalf("error %v, want not found: no-such-job alone", err)
	}
	if want := "not found: no-such-job (neither Batch nor the job events in " + group + " know it"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want it to start %q", err, want)
	}

	// A stack that records no events: the forgotten job is not found.
	g, _, _ = newGatherer("/batchxray/old/events")
	_, err = g.Gather(context.Background(), Request{Queue: "q", Jobs: []string{"job-a", "job-gone"}})
	if !errors.As(err, &nf) || fmt.Sprint(nf.IDs) != "[job-gone]" {
		t.Fatalf("error %v, want not found: job-gone", err)
	}
	if want := "the job events could not be read: no log group /batchxray/old/events"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q lacks %q", err, want)
	}
}
