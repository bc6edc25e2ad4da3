package xray_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
)

// startClock starts the stand-in on a fake clock the test advances.
func startClock(t *testing.T, opts localaws.Options) (*clockwork.FakeClock, *xray.Client, *cloudwatchlogs.Client) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Unix(base+3600, 0))
	opts.Clock = clock
	_, cfg := localawstest.Start(t, opts)
	return clock, xray.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
}

// found reports whether BatchGetTraces returns the trace, and its documents.
func found(t *testing.T, c *xray.Client, id string) (bool, int) {
	t.Helper()
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) == 0 {
		if !cmp.Equal(out.UnprocessedTraceIds, []string{id}) {
			t.Errorf("a trace not returned is unprocessed: %v", out.UnprocessedTraceIds)
		}
		return false, 0
	}
	return true, len(out.Traces[0].Segments)
}

func TestTracesAreIndexedAfterTheDelay(t *testing.T) {
	clock, c, _ := startClock(t, localaws.Options{XRay: xraysvc.Config{IndexDelay: 3 * time.Second}})
	tr := traceID(1, 1)
	put(t, c, doc(tr, "a000000000000001", "job", base+1, base+2, map[string]any{"annotations": map[string]any{"job_id": "j1"}}))
	search := func() []string {
		return ids(summaries(t, c, &xray.GetTraceSummariesInput{FilterExpression: aws.String(`annotation.job_id = "j1"`)}))
	}
	if got := search(); len(got) != 0 {
		t.Errorf("summaries at once: %v, want none", got)
	}
	if ok, _ := found(t, c, tr); ok {
		t.Error("BatchGetTraces returned the trace at once")
	}
	clock.Advance(2999 * time.Millisecond)
	if ok, _ := found(t, c, tr); ok || len(search()) != 0 {
		t.Error("the trace is visible before the delay has passed")
	}
	clock.Advance(time.Millisecond)
	if got := search(); !cmp.Equal(got, []string{tr}) {
		t.Errorf("summaries after the delay: %v, want %s", got, tr)
	}
	if ok, n := found(t, c, tr); !ok || n != 1 {
		t.Errorf("BatchGetTraces after the delay: %v, %d documents", ok, n)
	}

	// A document sent later is indexed the delay after it came.
	put(t, c, doc(tr, "a000000000000002", "retry", base+3, base+4, map[string]any{"type": "subsegment", "parent_id": "a000000000000001"}),
		doc(tr, "a000000000000003", "other", base+3, base+4, nil))
	if _, n := found(t, c, tr); n != 1 {
		t.Errorf("documents just sent: %d returned, want the first only", n)
	}
	clock.Advance(3 * time.Second)
	if _, n := found(t, c, tr); n != 2 {
		t.Errorf("documents after the delay: %d returned, want 2 segments", n)
	}
}

// TestReplacedSegmentStaysReadable checks that while a completed segment
// is being indexed, BatchGetTraces returns the in-progress one it replaced
// rather than nothing.
func TestReplacedSegmentStaysReadable(t *testing.T) {
	clock, c, _ := startClock(t, localaws.Options{XRay: xraysvc.Config{IndexDelay: 3 * time.Second}})
	tr := traceID(1, 1)
	put(t, c, doc(tr, "a000000000000001", "job", base+1, 0, map[string]any{"in_progress": true}))
	clock.Advance(3 * time.Second)
	put(t, c, doc(tr, "a000000000000001", "job", base+1, base+9, nil))
	read := func() (inProgress bool) {
		t.Helper()
		docs := getTrace(t, c, tr)
		var d struct {
			InProgress bool `json:"in_progress"`
		}
		if err := json.Unmarshal([]byte(docs[0]), &d); err != nil {
			t.Fatal(err)
		}
		return d.InProgress
	}
	if !read() {
		t.Error("just after the complete segment came: want the in-progress one still")
	}
	clock.Advance(3 * time.Second)
	if read() {
		t.Error("after the delay: want the complete segment")
	}
}

func TestTraceSegmentDestinationPendingThenActive(t *testing.T) {
	clock, c, _ := startClock(t, localaws.Options{XRay: xraysvc.Config{DestinationDelay: time.Minute}})
	ctx := context.Background()
	get := func() (types.TraceSegmentDestination, types.TraceSegmentDestinationStatus) {
		t.Helper()
		out, err := c.GetTraceSegmentDestination(ctx, &xray.GetTraceSegmentDestinationInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.Destination, out.Status
	}
	up, err := c.UpdateTraceSegmentDestination(ctx, &xray.UpdateTraceSegmentDestinationInput{Destination: types.TraceSegmentDestinationCloudWatchLogs})
	if err != nil || up.Destination != types.TraceSegmentDestinationCloudWatchLogs || up.Status != types.TraceSegmentDestinationStatusPending {
		t.Fatalf("UpdateTraceSegmentDestination = %+v, %v, want CloudWatchLogs PENDING", up, err)
	}
	if d, s := get(); d != "CloudWatchLogs" || s != "PENDING" {
		t.Errorf("while pending: %s %s", d, s)
	}
	// Still X-Ray until active: a trace sent now is indexed.
	early := traceID(1, 1)
	put(t, c, doc(early, "b000000000000001", "job", base+1, base+2, nil))
	clock.Advance(time.Minute)
	if d, s := get(); d != "CloudWatchLogs" || s != "ACTIVE" {
		t.Errorf("a minute later: %s %s, want CloudWatchLogs ACTIVE", d, s)
	}
	// Transaction Search at the default 1%: of 200 traces, a few are
	// indexed, and the trace sent before stays indexed.
	indexed := 0
	for i := range 200 {
		tr := traceID(10+i, i)
		put(t, c, doc(tr, fmt.Sprintf("%016x", i+1), "job", float64(base+10+i), float64(base+11+i), nil))
		if ok, _ := found(t, c, tr); ok {
			indexed++
		}
	}
	if indexed > 10 {
		t.Errorf("%d of 200 traces indexed at 1%%", indexed)
	}
	if ok, _ := found(t, c, early); !ok {
		t.Error("a trace indexed in X-Ray mode is gone")
	}
	if n := len(summaries(t, c, &xray.GetTraceSummariesInput{})); n != indexed+1 {
		t.Errorf("summaries: %d, want the %d indexed traces", n, indexed+1)
	}
	// And back.
	if _, err := c.UpdateTraceSegmentDestination(ctx, &xray.UpdateTraceSegmentDestinationInput{Destination: types.TraceSegmentDestinationXRay}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if d, s := get(); d != "XRay" || s != "ACTIVE" {
		t.Errorf("back to X-Ray: %s %s", d, s)
	}
}

func indexedSet(t *testing.T, seed uint64, percentage float64) map[string]bool {
	t.Helper()
	_, c, _ := startClock(t, localaws.Options{XRay: xraysvc.Config{Destination: "CloudWatchLogs", IndexingPercentage: percentage, IndexingSeed: seed}})
	set := map[string]bool{}
	for i := range 500 {
		tr := traceID(i, i)
		put(t, c, doc(tr, fmt.Sprintf("%016x", i+1), "job", float64(base+i), float64(base+i+1), nil))
	}
	for _, s := range summaries(t, c, &xray.GetTraceSummariesInput{}) {
		set[aws.ToString(s.Id)] = true
	}
	return set
}

func TestIndexingRule(t *testing.T) {
	ctx := context.Background()
	t.Run("the Default rule at 1%, updated", func(t *testing.T) {
		clock, c, _ := startClock(t, localaws.Options{XRay: xraysvc.Config{Destination: "CloudWatchLogs"}})
		out, err := c.GetIndexingRules(ctx, &xray.GetIndexingRulesInput{})
		if err != nil || len(out.IndexingRules) != 1 || aws.ToString(out.IndexingRules[0].Name) != "Default" {
			t.Fatalf("GetIndexingRules = %+v, %v", out, err)
		}
		p, ok := out.IndexingRules[0].Rule.(*types.IndexingRuleValueMemberProbabilistic)
		if !ok || aws.ToFloat64(p.Value.DesiredSamplingPercentage) != 1 {
			t.Fatalf("Default rule = %#v, want probabilistic 1%%", out.IndexingRules[0].Rule)
		}
		// A trace decided out stays out when the percentage changes.
		out1 := ""
		for i := range 100 {
			tr := traceID(i, i)
			put(t, c, doc(tr, fmt.Sprintf("%016x", i+1), "job", float64(base+i), float64(base+i+1), nil))
			if ok, _ := found(t, c, tr); !ok {
				out1 = tr
				break
			}
		}
		clock.Advance(time.Second)
		up, err := c.UpdateIndexingRule(ctx, &xray.UpdateIndexingRuleInput{Name: aws.String("Default"),
			Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(100)}}})
		if err != nil {
			t.Fatal(err)
		}
		if p := up.IndexingRule.Rule.(*types.IndexingRuleValueMemberProbabilistic); aws.ToFloat64(p.Value.DesiredSamplingPercentage) != 100 ||
			!up.IndexingRule.ModifiedAt.Equal(clock.Now()) {
			t.Errorf("UpdateIndexingRule = %+v", up.IndexingRule)
		}
		put(t, c, doc(out1, "f000000000000001", "later", base+200, base+201, nil))
		if ok, _ := found(t, c, out1); ok {
			t.Errorf("trace %s was decided out and came in with a later document", out1)
		}
		fresh := traceID(300, 300)
		put(t, c, doc(fresh, "f000000000000002", "job", base+300, base+301, nil))
		if ok, _ := found(t, c, fresh); !ok {
			t.Error("a new trace at 100% is not indexed")
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, c, _ := startClock(t, localaws.Options{})
		for name, tt := range map[string]struct {
			in   *xray.UpdateIndexingRuleInput
			code string
		}{
			"unknown rule": {&xray.UpdateIndexingRuleInput{Name: aws.String("Mine"), Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{
				Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(5)}}}, "ResourceNotFoundException"},
			"over 100": {&xray.UpdateIndexingRuleInput{Name: aws.String("Default"), Rule: &types.IndexingRuleValueUpdateMemberProbabilistic{
				Value: types.ProbabilisticRuleValueUpdate{DesiredSamplingPercentage: aws.Float64(101)}}}, "InvalidRequestException"},
		} {
			if _, err := c.UpdateIndexingRule(ctx, tt.in); errorCode(err) != tt.code {
				t.Errorf("%s: %v, want %s", name, err, tt.code)
			}
		}
	})
	t.Run("seeded", func(t *testing.T) {
		a, again, other := indexedSet(t, 7, 10), indexedSet(t, 7, 10), indexedSet(t, 8, 10)
		if n := len(a); n < 25 || n > 75 {
			t.Errorf("10%% of 500 traces: %d indexed", n)
		}
		if !cmp.Equal(a, again) {
			t.Error("the same seed indexed other traces")
		}
		if cmp.Equal(a, other) {
			t.Error("another seed indexed the same traces")
		}
	})
}

// TestSpansGoToCloudWatchLogs checks that in CloudWatch Logs mode every
// segment and subsegment, from PutTraceSegments and the daemon alike, is a
// span in aws/spans, read back with the CloudWatch Logs API.
func TestSpansGoToCloudWatchLogs(t *testing.T) {
	srv, c, logs := startClockSrv(t, localaws.Options{XRay: xraysvc.Config{Destination: "CloudWatchLogs", IndexingPercentage: 100}})
	tr := traceID(1, 1)
	put(t, c, doc(tr, "c000000000000001", "job", base+1, base+2, map[string]any{
		"annotations": map[string]any{"job_id": "j"},
		"subsegments": []any{map[string]any{"id": "c000000000000002", "name": "S3", "namespace": "aws", "start_time": base + 1.1, "end_time": base + 1.2}},
	}))
	// The daemon's way in: a datagram on UDP.
	conn, err := net.Dial("udp", srv.DaemonAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(`{"format": "json", "version": 1}` + "\n" + doc(tr, "c000000000000003", "fetch", base+1.3, base+1.4, map[string]any{"type": "subsegment", "parent_id": "c000000000000001"}))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.XRay().WaitIngested(ctx, 2); err != nil {
		t.Fatal(err)
	}
	out, err := logs.GetLogEvents(context.Background(), &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String("aws/spans"), LogStreamName: aws.String("default"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		TraceID      string         `json:"traceId"`
		SpanID       string         `json:"spanId"`
		ParentSpanID string         `json:"parentSpanId"`
		Name         string         `json:"name"`
		Kind         string         `json:"kind"`
		Attributes   map[string]any `json:"attributes"`
	}
	var got []span
	for _, e := range out.Events {
		var s span
		if err := json.Unmarshal([]byte(aws.ToString(e.Message)), &s); err != nil {
			t.Fatal(err)
		}
		s.Attributes = nil
		got = append(got, s)
	}
	otel := strings.ReplaceAll(tr[2:], "-", "")
	want := []span{
		{TraceID: otel, SpanID: "c000000000000001", Name: "job", Kind: "SERVER"},
		{TraceID: otel, SpanID: "c000000000000002", ParentSpanID: "c000000000000001", Name: "S3", Kind: "CLIENT"},
		{TraceID: otel, SpanID: "c000000000000003", ParentSpanID: "c000000000000001", Name: "fetch", Kind: "INTERNAL"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans in aws/spans (-want +got):\n%s", diff)
	}
}

func startClockSrv(t *testing.T, opts localaws.Options) (*localaws.Server, *xray.Client, *cloudwatchlogs.Client) {
	t.Helper()
	opts.Clock = clockwork.NewFakeClockAt(time.Unix(base+3600, 0))
	srv, cfg := localawstest.Start(t, opts)
	return srv, xray.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
}
