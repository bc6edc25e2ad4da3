package traces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
	"github.com/batchxray/batchxray/internal/traceid"
)

// countingXRay is the real client, counting the calls: the searches, gets
// and retrievals apart, every other call (destination, retrieved pages,
// indexing rules) together.
type countingXRay struct {
	*xray.Client
	summaries, batches, retrievals, other atomic.Int32
}

// total is every call counted.
func (c *countingXRay) total() int32 {
	return c.summaries.Load() + c.batches.Load() + c.retrievals.Load() + c.other.Load()
}

func (c *countingXRay) GetTraceSegmentDestination(ctx context.Context, in *xray.GetTraceSegmentDestinationInput, o ...func(*xray.Options)) (*xray.GetTraceSegmentDestinationOutput, error) {
	c.other.Add(1)
	return c.Client.GetTraceSegmentDestination(ctx, in, o...)
}

func (c *countingXRay) ListRetrievedTraces(ctx context.Context, in *xray.ListRetrievedTracesInput, o ...func(*xray.Options)) (*xray.ListRetrievedTracesOutput, error) {
	c.other.Add(1)
	return c.Client.ListRetrievedTraces(ctx, in, o...)
}

func (c *countingXRay) GetIndexingRules(ctx context.Context, in *xray.GetIndexingRulesInput, o ...func(*xray.Options)) (*xray.GetIndexingRulesOutput, error) {
	c.other.Add(1)
	return c.Client.GetIndexingRules(ctx, in, o...)
}

func (c *countingXRay) StartTraceRetrieval(ctx context.Context, in *xray.StartTraceRetrievalInput, o ...func(*xray.Options)) (*xray.StartTraceRetrievalOutput, error) {
	c.retrievals.Add(1)
	return c.Client.StartTraceRetrieval(ctx, in, o...)
}

func (c *countingXRay) GetTraceSummaries(ctx context.Context, in *xray.GetTraceSummariesInput, o ...func(*xray.Options)) (*xray.GetTraceSummariesOutput, error) {
	c.summaries.Add(1)
	return c.Client.GetTraceSummaries(ctx, in, o...)
}

func (c *countingXRay) BatchGetTraces(ctx context.Context, in *xray.BatchGetTracesInput, o ...func(*xray.Options)) (*xray.BatchGetTracesOutput, error) {
	c.batches.Add(1)
	return c.Client.BatchGetTraces(ctx, in, o...)
}

const byIDStart = 1764040000 // epoch seconds of every fixture job here

// tagged is a finished job detail carrying its trace as submit tags it.
func tagged(id, trace string, attempts int) batchtypes.JobDetail {
	d := batchtypes.JobDetail{
		JobId: aws.String(id), JobName: aws.String("n"), JobQueue: aws.String("q"), Status: batchtypes.JobStatusSucceeded,
		CreatedAt: aws.Int64(byIDStart * 1000), StartedAt: aws.Int64((byIDStart + 1) * 1000), StoppedAt: aws.Int64((byIDStart + 9) * 1000),
		Tags: map[string]string{jobs.TraceTagKey: trace},
	}
	for a := range attempts {
		d.Attempts = append(d.Attempts, batchtypes.AttemptDetail{
			StartedAt: aws.Int64(int64(byIDStart+1+4*a) * 1000), StoppedAt: aws.Int64(int64(byIDStart+4+4*a) * 1000),
			Container: &batchtypes.AttemptContainerDetail{ExitCode: aws.Int32(int32(a))},
		})
	}
	return d
}

// put sends the job's segments as the job and submit would: the submit
// root and one BatchJob segment an attempt, its child.
func put(t *testing.T, c *xray.Client, trace, jobID string, attempts int, index *int) {
	t.Helper()
	root, _ := traceid.NewSegmentID(nil)
	docs := []map[string]any{{"name": jobs.SubmitSegmentName, "id": root, "trace_id": trace, "start_time": byIDStart, "end_time": byIDStart + 0.1}}
	if index != nil {
		docs = nil // a child's trace has no submit segment of its own
	}
	for a := 1; a <= attempts; a++ {
		id, _ := traceid.NewSegmentID(nil)
		ann := map[string]any{"job_id": jobID, "attempt": a}
		d := map[string]any{"name": "BatchJob", "id": id, "trace_id": trace, "start_time": byIDStart + 1 + 4*(a-1), "end_time": byIDStart + 4*a, "annotations": ann}
		if index != nil {
			ann["array_index"] = *index
		} else {
			d["parent_id"] = root
		}
		docs = append(docs, d)
	}
	var in xray.PutTraceSegmentsInput
	for _, d := range docs {
		b, _ := json.Marshal(d)
		in.TraceSegmentDocuments = append(in.TraceSegmentDocuments, string(b))
	}
	if _, err := c.PutTraceSegments(context.Background(), &in); err != nil {
		t.Fatal(err)
	}
}

// TestLookupByID: 20 jobs, a retried job and an array of 50, all fetched by
// the trace ID they carry from the stand-in's X-Ray over real HTTP, with no
// search at all; the array's children by the rule, 5 a call.
func TestLookupByID(t *testing.T) {
	t.Run("X-Ray", func(t *testing.T) { testLookupByID(t, xraysvc.Config{}, false) })
	// Transaction Search at 1%: BatchGetTraces and the search see about 1
	// trace in 100; StartTraceRetrieval gets every one by ID.
	t.Run("CloudWatchLogs-1%", func(t *testing.T) {
		testLookupByID(t, xraysvc.Config{Destination: "CloudWatchLogs", IndexingPercentage: 1, IndexingSeed: 7, RetrievalDelay: 30 * time.Millisecond}, true)
	})
}

func testLookupByID(t *testing.T, xc0 xraysvc.Config, cwl bool) {
	_, cfg := localawstest.Start(t, localaws.Options{XRay: xc0})
	xc := xray.NewFromConfig(cfg)
	finder := func(cx *countingXRay) *Finder {
		f := NewFinder(cx, clockwork.NewRealClock())
		f.MinDelay, f.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
		return f
	}
	wantGets := func(n int32, cx *countingXRay) {
		t.Helper()
		got := cx.batches.Load()
		if cwl {
			got = cx.retrievals.Load()
			if cx.batches.Load() != 0 {
				t.Errorf("%d BatchGetTraces in CloudWatch Logs mode", cx.batches.Load())
			}
		}
		if cx.summaries.Load() != 0 || got != n {
			t.Errorf("%d searches and %d gets, want 0 and %d", cx.summaries.Load(), got, n)
		}
	}
	var details []batchtypes.JobDetail
	newTrace := func(i int) string { return fmt.Sprintf("1-%08x-%024x", byIDStart, i+1) }
	for i := range 20 {
		id := "job-" + strconv.Itoa(i)
		details = append(details, tagged(id, newTrace(i), 1))
		put(t, xc, newTrace(i), id, 1, nil)
	}
	details = append(details, tagged("retried", newTrace(20), 2))
	put(t, xc, newTrace(20), "retried", 2, nil)

	parent := tagged("arr", newTrace(21), 0)
	parent.ArrayProperties = &batchtypes.ArrayPropertiesDetail{Size: aws.Int32(50), StatusSummary: map[string]int32{"SUCCEEDED": 50}}
	details = append(details, parent)
	put(t, xc, newTrace(21), "arr", 0, nil)
	for i := range 50 {
		c := tagged("arr:"+strconv.Itoa(i), "", 1)
		c.Tags = nil // Batch does not copy the parent's tags to a child
		c.ArrayProperties = &batchtypes.ArrayPropertiesDetail{Index: aws.Int32(int32(i))}
		details = append(details, c)
		ct, err := traceid.Child(newTrace(21), i)
		if err != nil {
			t.Fatal(err)
		}
		put(t, xc, ct, aws.ToString(c.JobId), 1, &i)
	}
	// A job submitted with raw SubmitJob carries no trace ID: found by
	// searching its annotation.
	raw := tagged("raw", "", 1)
	raw.Tags = nil
	details = append(details, raw)
	put(t, xc, newTrace(99), "raw", 1, nil)
	bc := &describeOnly{t: t, jobs: details}
	if cwl {
		// The test can fail: BatchGetTraces sees only the indexed share.
		seen := 0
		for i := 0; i < 20; i += 5 {
			out, err := xc.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{newTrace(i), newTrace(i + 1), newTrace(i + 2), newTrace(i + 3), newTrace(i + 4)}})
			if err != nil {
				t.Fatal(err)
			}
			seen += len(out.Traces)
		}
		if seen > 5 {
			t.Fatalf("BatchGetTraces sees %d of 20 traces at 1%% indexing", seen)
		}
	}

	for i := range 21 {
		id := aws.ToString(details[i].JobId)
		cx := &countingXRay{Client: xc}
		v, err := Lookup(context.Background(), bc, finder(cx), id, LookupOptions{})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		want := 1
		if id == "retried" {
			want = 2
		}
		if len(v.Traces) != 1 || v.Traces[0].ID != newTrace(i) || JobSegments(v.Traces[0]) != want {
			t.Fatalf("%s: %d traces, want its own with %d job segments", id, len(v.Traces), want)
		}
		if r := v.Traces[0].Roots; len(r) != 1 || r[0].Name != jobs.SubmitSegmentName || len(r[0].Children) != want {
			t.Errorf("%s: roots %+v, want the submit segment holding the attempts", id, r)
		}
		wantGets(1, cx)
	}

	cx := &countingXRay{Client: xc}
	v, err := Lookup(context.Background(), bc, finder(cx), "raw", LookupOptions{})
	if cwl {
		var nf *NotFoundError
		if !errors.As(err, &nf) || nf.Reason != ReasonTransactionSearch || nf.Indexed == nil || *nf.Indexed != 1 {
			t.Fatalf("raw job: %v, want not found at 1%% indexing", err)
		}
		diff(t, "message", "no trace for job raw: it carries no trace ID, and this account sends traces to CloudWatch Logs (Transaction Search), which indexes 1% of traces for search: about 99 in 100 such jobs cannot be found", nf.Error())
	} else {
		if err != nil || len(v.Traces) != 1 || v.Traces[0].ID != newTrace(99) {
			t.Fatalf("raw job: %v, want its trace found by search", err)
		}
		if cx.summaries.Load() == 0 {
			t.Error("raw job found without a search")
		}
	}

	cx = &countingXRay{Client: xc}
	v, err = Lookup(context.Background(), bc, finder(cx), "arr", LookupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Children) != 50 || len(v.Traces) != 1 || v.Traces[0].Roots[0].Name != jobs.SubmitSegmentName {
		t.Fatalf("array: %d children, parent traces %d", len(v.Children), len(v.Traces))
	}
	for _, c := range v.Children {
		ct, _ := traceid.Child(newTrace(21), c.Index())
		if len(c.Traces) != 1 || c.Traces[0].ID != ct {
			t.Errorf("child %d: %d traces, want %s", c.Index(), len(c.Traces), ct)
		}
	}
	// 51 traces, 5 a call.
	wantGets(11, cx)
}

// TestTraceIDFromEnvironment: a job without the tag but with submit's header
// in its container's environment is fetched by that header's Root.
func TestTraceIDFromEnvironment(t *testing.T) {
	d := batchtypes.JobDetail{Container: &batchtypes.ContainerDetail{Environment: []batchtypes.KeyValuePair{
		{Name: aws.String("OTHER"), Value: aws.String("x")},
		{Name: aws.String(traceid.EnvVar), Value: aws.String("Root=1-5d82881a-0a9126e92a73e971eed891b9;Parent=53995c3f42cd8ad8;Sampled=1")},
	}}}
	diff(t, "from the environment", "1-5d82881a-0a9126e92a73e971eed891b9", TraceID(d))
	diff(t, "none", "", TraceID(batchtypes.JobDetail{}))
	d.Tags = map[string]string{jobs.TraceTagKey: "1-5d82881b-0a9126e92a73e971eed891b9"}
	diff(t, "the tag first", "1-5d82881b-0a9126e92a73e971eed891b9", TraceID(d))
}
