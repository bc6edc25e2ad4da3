package xray_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// base is the epoch second the tests' traces start at.
const base = 1767225600 // 2026-01-01T00:00:00Z

func start(t *testing.T, opts localaws.Options) (*localaws.Server, *xray.Client) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clockwork.NewFakeClockAt(time.Unix(base+3600, 0))
	}
	srv, cfg := localawstest.Start(t, opts)
	return srv, xray.NewFromConfig(cfg)
}

// traceID is a trace ID whose epoch is base+sec, made distinct by n.
func traceID(sec, n int) string {
	return fmt.Sprintf("1-%08x-%024x", base+sec, n)
}

// doc is a segment document; fields are added to or override the basics.
func doc(trace, id, name string, start, end float64, fields map[string]any) string {
	m := map[string]any{"trace_id": trace, "id": id, "name": name, "start_time": start}
	if end > 0 {
		m["end_time"] = end
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func put(t *testing.T, c *xray.Client, docs ...string) []types.UnprocessedTraceSegment {
	t.Helper()
	out, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs})
	if err != nil {
		t.Fatalf("PutTraceSegments: %v", err)
	}
	return out.UnprocessedTraceSegments
}

func summaries(t *testing.T, c *xray.Client, in *xray.GetTraceSummariesInput) []types.TraceSummary {
	t.Helper()
	if in.StartTime == nil {
		in.StartTime = aws.Time(time.Unix(base-60, 0))
		in.EndTime = aws.Time(time.Unix(base+3600, 0))
	}
	var all []types.TraceSummary
	p := xray.NewGetTraceSummariesPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("GetTraceSummaries: %v", err)
		}
		all = append(all, out.TraceSummaries...)
	}
	return all
}

func ids(sums []types.TraceSummary) []string {
	out := []string{}
	for _, s := range sums {
		out = append(out, aws.ToString(s.Id))
	}
	return out
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestPutTraceSegmentsValidation(t *testing.T) {
	_, c := start(t, localaws.Options{})
	tr := traceID(1, 1)
	tests := []struct {
		name, doc, code string
	}{
		{"complete segment", doc(tr, "0000000000000001", "svc", base+1, base+2, nil), ""},
		{"in progress", doc(tr, "0000000000000002", "svc", base+1, 0, map[string]any{"in_progress": true}), ""},
		{"subsegment alone", doc(tr, "0000000000000003", "sub", base+1, base+2, map[string]any{"type": "subsegment", "parent_id": "0000000000000001"}), ""},
		{"not JSON", `{"name":`, "InvalidSegment"},
		{"JSON of the wrong shape", `{"id":"0000000000000009","name":5}`, "InvalidSegment"},
		{"no id", doc(tr, "", "svc", base+1, base+2, map[string]any{"id": nil}), "MissingId"},
		{"short id", doc(tr, "123", "svc", base+1, base+2, nil), "InvalidId"},
		{"no name", doc(tr, "0000000000000004", "", base+1, base+2, map[string]any{"name": nil}), "MissingName"},
		{"bad name", doc(tr, "0000000000000004", "a<b>", base+1, base+2, nil), "InvalidName"},
		{"long name", doc(tr, "0000000000000004", strings.Repeat("n", 201), base+1, base+2, nil), "InvalidName"},
		{"no trace id", doc("", "0000000000000004", "svc", base+1, base+2, map[string]any{"trace_id": nil}), "MissingTraceId"},
		{"bad trace id", doc("1-abc-def", "0000000000000004", "svc", base+1, base+2, nil), "InvalidTraceId"},
		{"no start", doc(tr, "0000000000000004", "svc", 0, base+2, map[string]any{"start_time": nil}), "MissingStartTime"},
		{"no end, not in progress", doc(tr, "0000000000000004", "svc", base+1, 0, nil), "MissingEndTime"},
		{"end before start", doc(tr, "0000000000000004", "svc", base+2, base+1, nil), "InvalidEndTime"},
		{"subsegment without parent", doc(tr, "0000000000000004", "sub", base+1, base+2, map[string]any{"type": "subsegment"}), "MissingParentId"},
		{"unknown type", doc(tr, "0000000000000004", "svc", base+1, base+2, map[string]any{"type": "span"}), "InvalidType"},
		{"over 64 KB", doc(tr, "0000000000000004", "svc", base+1, base+2, map[string]any{"metadata": map[string]any{"pad": strings.Repeat("x", 64*1024)}}), "SegmentTooLarge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			un := put(t, c, tt.doc)
			if tt.code == "" {
				if len(un) != 0 {
					t.Fatalf("unprocessed = %+v, want none", un)
				}
				return
			}
			if len(un) != 1 || aws.ToString(un[0].ErrorCode) != tt.code || aws.ToString(un[0].Message) == "" {
				t.Fatalf("unprocessed = %+v, want one with ErrorCode %s and a message", un, tt.code)
			}
		})
	}
	t.Run("the refused document's id is reported", func(t *testing.T) {
		un := put(t, c, doc(tr, "00000000000000aa", "svc", base+1, 0, nil), doc(tr, "00000000000000bb", "svc", base+1, base+2, nil))
		if len(un) != 1 || aws.ToString(un[0].Id) != "00000000000000aa" {
			t.Fatalf("unprocessed = %+v, want only 00000000000000aa", un)
		}
	})
}

func TestInProgressThenComplete(t *testing.T) {
	_, c := start(t, localaws.Options{})
	tr := traceID(10, 1)
	put(t, c, doc(tr, "00000000000000a1", "job", base+10, 0, map[string]any{"in_progress": true}))
	sums := summaries(t, c, &xray.GetTraceSummariesInput{})
	if len(sums) != 1 || !aws.ToBool(sums[0].IsPartial) {
		t.Fatalf("after the in-progress document: %+v, want one partial trace", sums)
	}
	put(t, c, doc(tr, "00000000000000a1", "job", base+10, base+12.5, nil))
	// A late in-progress copy does not undo the complete document.
	put(t, c, doc(tr, "00000000000000a1", "job", base+10, 0, map[string]any{"in_progress": true}))
	sums = summaries(t, c, &xray.GetTraceSummariesInput{})
	if len(sums) != 1 || aws.ToBool(sums[0].IsPartial) || aws.ToFloat64(sums[0].Duration) != 2.5 || sums[0].Revision != 2 {
		t.Fatalf("after the complete document: %+v, want one complete trace of 2.5 s, revision 2", sums)
	}
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{tr}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 || len(out.Traces[0].Segments) != 1 || strings.Contains(aws.ToString(out.Traces[0].Segments[0].Document), "in_progress") {
		t.Fatalf("BatchGetTraces = %+v, want the one complete segment", out.Traces)
	}
}

// node is the tree of names a segment document holds.
type node struct {
	Name        string `json:"name"`
	Subsegments []node `json:"subsegments"`
}

func TestSubsegmentsSentSeparatelyAreMerged(t *testing.T) {
	_, c := start(t, localaws.Options{})
	tr := traceID(20, 1)
	un := put(t, c,
		doc(tr, "00000000000000b1", "job", base+20, base+25, map[string]any{
			"subsegments": []any{map[string]any{"id": "00000000000000b2", "name": "inline", "start_time": base + 20.1, "end_time": base + 20.2}},
		}),
		doc(tr, "00000000000000b3", "download", base+21, base+22, map[string]any{"type": "subsegment", "parent_id": "00000000000000b1",
			"annotations": map[string]any{"bytes": 42}}),
		doc(tr, "00000000000000b4", "S3", base+21.1, base+21.9, map[string]any{"type": "subsegment", "parent_id": "00000000000000b3", "namespace": "aws"}),
		doc(tr, "00000000000000b5", "under-inline", base+20.15, base+20.18, map[string]any{"type": "subsegment", "parent_id": "00000000000000b2"}),
		// Sent again on its own although the segment embeds it: one copy stays.
		doc(tr, "00000000000000b2", "inline", base+20.1, base+20.2, map[string]any{"type": "subsegment", "parent_id": "00000000000000b1"}),
	)
	if len(un) != 0 {
		t.Fatalf("unprocessed: %+v", un)
	}
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{tr}})
	if err != nil {
		t.Fatal(err)
	}
	// The job's segment, and the S3 segment X-Ray infers from the call.
	if len(out.Traces) != 1 || len(out.Traces[0].Segments) != 2 {
		t.Fatalf("traces = %+v, want one trace of two segments", out.Traces)
	}
	var inferred struct {
		Name     string `json:"name"`
		ParentID string `json:"parent_id"`
		Origin   string `json:"origin"`
		Inferred bool   `json:"inferred"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Traces[0].Segments[1].Document)), &inferred); err != nil {
		t.Fatal(err)
	}
	if inferred.Name != "S3" || inferred.ParentID != "00000000000000b4" || !inferred.Inferred || inferred.Origin != "AWS::S3::Bucket" {
		t.Errorf("second segment = %+v, want the inferred S3 segment", inferred)
	}
	var got node
	if err := json.Unmarshal([]byte(aws.ToString(out.Traces[0].Segments[0].Document)), &got); err != nil {
		t.Fatal(err)
	}
	want := node{Name: "job", Subsegments: []node{
		{Name: "inline", Subsegments: []node{{Name: "under-inline"}}},
		{Name: "download", Subsegments: []node{{Name: "S3"}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("merged segment (-want +got):\n%s", diff)
	}
	sums := summaries(t, c, &xray.GetTraceSummariesInput{FilterExpression: aws.String(`annotation.bytes = 42 and service("S3")`)})
	if len(sums) != 1 || aws.ToBool(sums[0].IsPartial) {
		t.Fatalf("summaries = %+v, want the one complete trace", sums)
	}
	if got := sums[0].Annotations["bytes"]; len(got) != 1 || aws.ToString(got[0].ServiceIds[0].Name) != "job" {
		t.Errorf("annotation bytes = %+v, want it recorded by the job service", got)
	}

	t.Run("a subsegment whose parent is missing makes the trace partial", func(t *testing.T) {
		orphan := traceID(21, 1)
		put(t, c, doc(orphan, "00000000000000c1", "lost", base+21, base+22, map[string]any{"type": "subsegment", "parent_id": "00000000000000c0"}))
		sums := summaries(t, c, &xray.GetTraceSummariesInput{FilterExpression: aws.String("partial")})
		if diff := cmp.Diff([]string{orphan}, ids(sums)); diff != "" {
			t.Errorf("partial traces (-want +got):\n%s", diff)
		}
		out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{orphan}})
		if err != nil || len(out.Traces) != 1 || len(out.Traces[0].Segments) != 1 {
			t.Fatalf("BatchGetTraces = %+v, %v, want the orphan as its own document", out, err)
		}
	})
}

func TestGetTraceSummaries(t *testing.T) {
	_, c := start(t, localaws.Options{})
	// The trace ID says the trace started at base+100, but its only
	// segment runs at base+200: TraceId and Event windows tell them apart.
	late := traceID(100, 1)
	put(t, c, doc(late, "00000000000000d1", "late", base+200, base+210, map[string]any{
		"annotations": map[string]any{"job_id": "j-1", "ok": true},
		"http":        map[string]any{"request": map[string]any{"method": "GET", "url": "http://x/y"}, "response": map[string]any{"status": 200}},
	}))
	window := func(from, to float64, typ types.TimeRangeType) *xray.GetTraceSummariesInput {
		return &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Unix(0, int64(from*1e9))), EndTime: aws.Time(time.Unix(0, int64(to*1e9))), TimeRangeType: typ}
	}
	tests := []struct {
		name string
		in   *xray.GetTraceSummariesInput
		want []string
	}{
		{"TraceId by default", window(base+99, base+101, ""), []string{late}},
		{"TraceId outside", window(base+195, base+215, types.TimeRangeTypeTraceId), []string{}},
		{"Event inside", window(base+195, base+205, types.TimeRangeTypeEvent), []string{late}},
		{"Event outside", window(base+99, base+101, types.TimeRangeTypeEvent), []string{}},
		{"Service by segment end", window(base+209, base+211, types.TimeRangeTypeService), []string{late}},
		{"Service not by start", window(base+199, base+201, types.TimeRangeTypeService), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ids(summaries(t, c, tt.in))); diff != "" {
				t.Errorf("traces (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("summary fields", func(t *testing.T) {
		sums := summaries(t, c, &xray.GetTraceSummariesInput{FilterExpression: aws.String(`annotation.job_id = "j-1"`)})
		if len(sums) != 1 {
			t.Fatalf("got %d summaries", len(sums))
		}
		s := sums[0]
		got := fmt.Sprintf("%s start=%d dur=%v resp=%v entry=%s http=%s %s %d ann=%s/%v partial=%v fault=%v",
			aws.ToString(s.Id), s.StartTime.Unix(), aws.ToFloat64(s.Duration), aws.ToFloat64(s.ResponseTime),
			aws.ToString(s.EntryPoint.Name), aws.ToString(s.Http.HttpMethod), aws.ToString(s.Http.HttpURL), aws.ToInt32(s.Http.HttpStatus),
			s.Annotations["job_id"][0].AnnotationValue.(*types.AnnotationValueMemberStringValue).Value,
			s.Annotations["ok"][0].AnnotationValue.(*types.AnnotationValueMemberBooleanValue).Value,
			aws.ToBool(s.IsPartial), aws.ToBool(s.HasFault))
		want := fmt.Sprintf("%s start=%d dur=10 resp=10 entry=late http=GET http://x/y 200 ann=j-1/true partial=false fault=false", late, base+200)
		if got != want {
			t.Errorf("summary\n got %s\nwant %s", got, want)
		}
	})

	errs := []struct {
		name string
		in   *xray.GetTraceSummariesInput
	}{
		{"end before start", window(base+10, base+5, "")},
		{"unknown time range type", window(base, base+5, "Wall")},
		{"malformed filter", &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Unix(base, 0)), EndTime: aws.Time(time.Unix(base+5, 0)), FilterExpression: aws.String(`annotation.job_id = `)}},
		{"foreign NextToken", &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Unix(base, 0)), EndTime: aws.Time(time.Unix(base+5, 0)), NextToken: aws.String("!!")}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.GetTraceSummaries(context.Background(), tt.in)
			var ire *types.InvalidRequestException
			if !errors.As(err, &ire) {
				t.Fatalf("error = %v, want InvalidRequestException", err)
			}
		})
	}
}

func TestGetTraceSummariesPagesNewestFirst(t *testing.T) {
	_, c := start(t, localaws.Options{})
	const n = 250
	var want []string
	for i := range n {
		tr := traceID(i, i)
		put(t, c, doc(tr, fmt.Sprintf("%016x", i+1), "svc", float64(base+i), float64(base+i)+0.5, nil))
		want = append([]string{tr}, want...) // newest first
	}
	in := &xray.GetTraceSummariesInput{StartTime: aws.Time(time.Unix(base-1, 0)), EndTime: aws.Time(time.Unix(base+n, 0))}
	var pages []int
	var got []string
	p := xray.NewGetTraceSummariesPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(out.TraceSummaries))
		got = append(got, ids(out.TraceSummaries)...)
		if out.ApproximateTime == nil || aws.ToInt64(out.TracesProcessedCount) < int64(len(out.TraceSummaries)) {
			t.Errorf("page without ApproximateTime or with TracesProcessedCount %d", aws.ToInt64(out.TracesProcessedCount))
		}
	}
	if diff := cmp.Diff([]int{100, 100, 50}, pages); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("traces in page order (-want +got):\n%s", diff)
	}

	// The store is indexed by the trace ID's epoch: a narrow window reads
	// only the traces inside it.
	out, err := c.GetTraceSummaries(context.Background(), &xray.GetTraceSummariesInput{
		StartTime: aws.Time(time.Unix(base+100, 0)), EndTime: aws.Time(time.Unix(base+109, 0))})
	if err != nil {
		t.Fatal(err)
	}
	if n, processed := len(out.TraceSummaries), aws.ToInt64(out.TracesProcessedCount); n != 10 || processed != 10 {
		t.Errorf("a 10-second window: %d summaries, %d traces processed, want 10 and 10", n, processed)
	}
}

func TestBatchGetTraces(t *testing.T) {
	_, c := start(t, localaws.Options{})
	var known []string
	for i := range 5 {
		tr := traceID(i, i)
		known = append(known, tr)
		put(t, c, doc(tr, fmt.Sprintf("%016x", i+1), "svc", float64(base+i), float64(base+i)+1, nil))
	}
	unknown := traceID(99, 99)
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{known[0], unknown, known[1]}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range out.Traces {
		got = append(got, aws.ToString(tr.Id))
		if aws.ToFloat64(tr.Duration) != 1 || len(tr.Segments) != 1 || !json.Valid([]byte(aws.ToString(tr.Segments[0].Document))) {
			t.Errorf("trace %s = %+v, want 1 s and one JSON segment", aws.ToString(tr.Id), tr)
		}
	}
	if diff := cmp.Diff([]string{known[0], known[1]}, got); diff != "" {
		t.Errorf("traces (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{unknown}, out.UnprocessedTraceIds); diff != "" {
		t.Errorf("unprocessed (-want +got):\n%s", diff)
	}
	if out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: known}); err != nil || len(out.Traces) != 5 {
		t.Errorf("five IDs: %d traces, %v", len(out.Traces), err)
	}
	for _, n := range []int{0, 6} {
		in := append([]string{}, known...)
		in = append(in, unknown)[:n]
		_, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: in})
		var ire *types.InvalidRequestException
		if !errors.As(err, &ire) {
			t.Errorf("%d IDs: error = %v, want InvalidRequestException", n, err)
		}
	}
}

func TestThrottledException(t *testing.T) {
	_, c := start(t, localaws.Options{ThrottleRate: 1})
	_, err := c.GetTraceSegmentDestination(context.Background(), &xray.GetTraceSegmentDestinationInput{})
	var te *types.ThrottledException
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want ThrottledException", err)
	}
}

func TestTraceSegmentDestination(t *testing.T) {
	_, c := start(t, localaws.Options{})
	out, err := c.GetTraceSegmentDestination(context.Background(), &xray.GetTraceSegmentDestinationInput{})
	if err != nil || out.Destination != types.TraceSegmentDestinationXRay || out.Status != types.TraceSegmentDestinationStatusActive {
		t.Fatalf("GetTraceSegmentDestination = %+v, %v, want XRay ACTIVE", out, err)
	}
	if _, err := c.UpdateTraceSegmentDestination(context.Background(), &xray.UpdateTraceSegmentDestinationInput{Destination: types.TraceSegmentDestinationCloudWatchLogs}); err != nil {
		t.Fatal(err)
	}
	if out, _ := c.GetTraceSegmentDestination(context.Background(), &xray.GetTraceSegmentDestinationInput{}); out.Destination != types.TraceSegmentDestinationCloudWatchLogs {
		t.Errorf("destination after update = %s, want CloudWatchLogs", out.Destination)
	}
	_, err = c.UpdateTraceSegmentDestination(context.Background(), &xray.UpdateTraceSegmentDestinationInput{Destination: "Elsewhere"})
	if code := errorCode(err); code != "InvalidRequestException" {
		t.Errorf("unknown destination: %v, want InvalidRequestException", err)
	}
}

func TestUnimplementedOperationIsAnError(t *testing.T) {
	_, c := start(t, localaws.Options{})
	_, err := c.GetGroups(context.Background(), &xray.GetGroupsInput{})
	if code := errorCode(err); code != "NotImplemented" {
		t.Fatalf("GetGroups: %v, want NotImplemented", err)
	}
}

func TestGetTraceSummariesSampling(t *testing.T) {
	_, c := start(t, localaws.Options{})
	for i := range 200 {
		put(t, c, doc(traceID(i, i), fmt.Sprintf("%016x", i+1), "svc", float64(base+i), float64(base+i)+1, nil))
	}
	sample := func() []string {
		return ids(summaries(t, c, &xray.GetTraceSummariesInput{Sampling: aws.Bool(true),
			SamplingStrategy: &types.SamplingStrategy{Name: types.SamplingStrategyNameFixedRate, Value: aws.Float64(0.25)}}))
	}
	first := sample()
	if n := len(first); n < 20 || n > 80 {
		t.Errorf("a 25%% sample of 200 traces returned %d", n)
	}
	if diff := cmp.Diff(first, sample()); diff != "" {
		t.Errorf("the same sample twice differs (-first +second):\n%s", diff)
	}
	if n := len(summaries(t, c, &xray.GetTraceSummariesInput{})); n != 200 {
		t.Errorf("without sampling: %d traces, want 200", n)
	}
}
