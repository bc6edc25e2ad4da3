package traces

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
)

const oomReason = "OutOfMemoryError: Container killed due to memory usage"

// TestLookupWaitsForTheWholeTrace: X-Ray indexes each document a delay after
// it arrives, so for a job that has ended BatchGetTraces can return its
// complete segment without the subsegment streamed just before it, or the
// in-progress segment while the complete one is being indexed. Lookup waits
// (on the stand-in's own clock, which its sleeps advance) until the trace is
// what the segment says it holds, and not at all for an attempt Batch
// killed, whose complete segment never comes. Each case is the order and the
// times the documents reach the stand-in's X-Ray, over real HTTP, and
// where the clock stands when trace looks. A job traced with OpenTelemetry
// sends no in-progress segment and its count as a span attribute: its
// spans go by OTLP to the stand-in's host-agent receiver and through its
// OpenTelemetry-to-X-Ray mapping, as on a host with the CloudWatch agent.
func TestLookupWaitsForTheWholeTrace(t *testing.T) {
	const delay = 3 * time.Second
	type arrival struct {
		doc   string        // "in progress", "complete", "fetch"
		after time.Duration // since the one before
	}
	tests := []struct {
		name     string
		arrivals []arrival
		// look is how long after the last arrival trace looks.
		look     time.Duration
		exit     int32
		reason   string
		tagged   bool
		wait     time.Duration
		wantFrom string // the document the job segment is drawn from
		wantSubs []string
		// wantSlept bounds the time Lookup waited: at least the first, at
		// most the second.
		wantSlept  [2]time.Duration
		wantKilled []KilledAttempt
		// cwl puts the account in Transaction Search, nothing indexed:
		// the trace is retrieved by ID.
		cwl bool
		// late arrive while Lookup waits, at its first sleep once it has
		// slept lateAfter: after the first retrieval completed.
		late      []string
		lateAfter time.Duration
		// otel sends the job's spans by OTLP to the host agent's receiver
		// (the root span "complete" and its child "fetch"; OpenTelemetry
		// sends nothing in progress), through the stand-in's mapping.
		otel bool
	}{
		{
			name:     "the streamed subsegment indexed after the complete segment",
			arrivals: []arrival{{"in progress", 0}, {"complete", 5 * time.Second}, {"fetch", time.Second}},
			look:     delay - 500*time.Millisecond, exit: 0, tagged: true, wait: 30 * time.Second,
			wantFrom: "complete", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{500 * time.Millisecond, 10 * time.Second},
		},
		{
			name:     "the same, found by search",
			arrivals: []arrival{{"in progress", 0}, {"complete", 5 * time.Second}, {"fetch", time.Second}},
			look:     delay - 500*time.Millisecond, exit: 0, wait: 30 * time.Second,
			wantFrom: "complete", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{500 * time.Millisecond, 10 * time.Second},
		},
		{
			name:     "the complete segment not yet indexed",
			arrivals: []arrival{{"in progress", 0}, {"fetch", 5 * time.Second}, {"complete", 4 * time.Second}},
			look:     time.Second, exit: 3, tagged: true, wait: 30 * time.Second,
			wantFrom: "complete", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{2 * time.Second, 10 * time.Second},
		},
		{
			name:     "Transaction Search: the complete segment arrives while trace looks",
			arrivals: []arrival{{"in progress", 0}, {"fetch", 5 * time.Second}},
			look:     time.Second, exit: 0, tagged: true, wait: 30 * time.Second, cwl: true, late: []string{"complete"}, lateAfter: time.Second,
			wantFrom: "complete", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{time.Second, 20 * time.Second},
		},
		{
			name:     "OpenTelemetry: the child span indexed after the root span",
			arrivals: []arrival{{"complete", 0}, {"fetch", time.Second}},
			look:     delay - 500*time.Millisecond, exit: 0, tagged: true, wait: 30 * time.Second, otel: true,
			wantFrom: "complete", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{500 * time.Millisecond, 10 * time.Second},
		},
		{
			name:     "OpenTelemetry: the same, found by search",
			arrivals: []arrival{{"complete", 0}, {"fetch", time.Second}},
			look:     delay - 500*time.Millisecond, exit: 0, wait: 30 * time.Second, otel: true,
			wantFrom: "complete", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{500 * time.Millisecond, 10 * time.Second},
		},
		{
			name:     "OpenTelemetry: both indexed, no wait",
			arrivals: []arrival{{"fetch", 0}, {"complete", time.Second}},
			look:     delay, exit: 0, tagged: true, wait: 30 * time.Second, otel: true,
			wantFrom: "complete", wantSubs: []string{"fetch"},
		},
		{
			name:     "killed for its memory: no wait",
			arrivals: []arrival{{"in progress", 0}, {"fetch", 5 * time.Second}},
			look:     delay, exit: 137, reason: oomReason, tagged: true, wait: 30 * time.Second,
			wantFrom: "in progress", wantSubs: []string{"fetch"},
			wantKilled: []KilledAttempt{{Attempt: 1, Reason: oomReason}},
		},
		{
			name:     "the complete segment never comes: drawn when --wait is up",
			arrivals: []arrival{{"in progress", 0}, {"fetch", 5 * time.Second}},
			look:     delay, exit: 0, tagged: true, wait: 10 * time.Second,
			wantFrom: "in progress", wantSubs: []string{"fetch"}, wantSlept: [2]time.Duration{9 * time.Second, 10 * time.Second},
			wantKilled: []KilledAttempt{{Attempt: 1}},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Unix(byIDStart, 0)
			clock := clockwork.NewFakeClockAt(start)
			xcfg := xraysvc.Config{IndexDelay: delay}
			if tc.cwl {
				xcfg = xraysvc.Config{Destination: xraysvc.DestinationCloudWatchLogs, IndexingPercentage: -1, RetrievalDelay: time.Second}
			}
			srv, cfg := localawstest.Start(t, localaws.Options{Clock: clock, XRay: xcfg})
			xc := xray.NewFromConfig(cfg)
			trace := fmt.Sprintf("1-%08x-%024x", byIDStart, i+1)
			docs := attemptDocuments(trace, "job-1")
			var otlp string
			if tc.otel {
				addr, err := srv.StartOTLP("127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				otlp = "http://" + addr + xraysvc.OTLPPath
			}
			for n, a := range tc.arrivals {
				clock.Advance(a.after)
				if n == 0 {
					// submit's root, sent before the job starts.
					if _, err := xc.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{docs["submit"]}}); err != nil {
						t.Fatal(err)
					}
				}
				if tc.otel {
					exportSpan(t, otlp, attemptSpan(trace, a.doc))
					continue
				}
				in := &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{docs[a.doc]}}
				if _, err := xc.PutTraceSegments(context.Background(), in); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(tc.look)

			d := tagged("job-1", trace, 1)
			if !tc.tagged {
				d.Tags = nil
			}
			d.Status = batchtypes.JobStatusSucceeded
			if tc.exit != 0 {
				d.Status = batchtypes.JobStatusFailed
			}
			d.Attempts[0].Container = &batchtypes.AttemptContainerDetail{ExitCode: aws.Int32(tc.exit), Reason: aws.String(tc.reason)}
			f := NewFinder(xc, clock)
			var slept time.Duration
			late := tc.late
			f.sleep = func(ctx context.Context, d time.Duration) error {
				if slept < tc.lateAfter {
					slept += d
					clock.Advance(d)
					return nil
				}
				for _, name := range late {
					if _, err := xc.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{docs[name]}}); err != nil {
						return err
					}
				}
				late = nil
				slept += d
				clock.Advance(d)
				return nil
			}
			v, err := Lookup(context.Background(), &describeOnly{t: t, jobs: []batchtypes.JobDetail{d}}, f, "job-1", LookupOptions{Wait: tc.wait})
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Traces) != 1 {
				t.Fatalf("%d traces, want 1", len(v.Traces))
			}
			var seg *Span
			v.Traces[0].Walk(func(s *Span, _ int) {
				if s.Name == "BatchJob" {
					seg = s
				}
			})
			if seg == nil {
				t.Fatal("no BatchJob segment drawn")
			}
			if from := map[bool]string{true: "in progress", false: "complete"}[seg.InProgress]; from != tc.wantFrom {
				t.Errorf("the job segment is drawn from its %s document, want its %s one", from, tc.wantFrom)
			}
			var subs []string
			for _, c := range seg.Children {
				subs = append(subs, c.Name)
			}
			if d := cmp.Diff(tc.wantSubs, subs); d != "" {
				t.Errorf("the job segment's subsegments (-want +got):\n%s", d)
			}
			if slept < tc.wantSlept[0] || slept > tc.wantSlept[1] {
				t.Errorf("Lookup waited %s, want %s to %s", slept, tc.wantSlept[0], tc.wantSlept[1])
			}
			if d := cmp.Diff(tc.wantKilled, Killed(v)); d != "" {
				t.Errorf("killed attempts (-want +got):\n%s", d)
			}
		})
	}
}

// attemptDocuments are what one attempt of a job sends, by name: submit's
// root comes with the in-progress job segment, the streamed fetch
// subsegment, and the complete job segment that counts it.
func attemptDocuments(trace, jobID string) map[string]string {
	enc := func(d map[string]any) string {
		b, _ := json.Marshal(d)
		return string(b)
	}
	ann := map[string]any{"job_id": jobID, "attempt": 1}
	seg := func(done bool) map[string]any {
		d := map[string]any{"name": "BatchJob", "id": "aaaaaaaaaaaaaaa1", "parent_id": "aaaaaaaaaaaaaaa0", "trace_id": trace, "start_time": byIDStart + 1, "annotations": ann}
		if done {
			d["end_time"] = byIDStart + 4
			d["metadata"] = map[string]any{metadataNamespace: map[string]any{subsegmentsKey: 1}}
		} else {
			d["in_progress"] = true
		}
		return d
	}
	return map[string]string{
		"submit":      enc(map[string]any{"name": jobs.SubmitSegmentName, "id": "aaaaaaaaaaaaaaa0", "trace_id": trace, "start_time": byIDStart, "end_time": byIDStart + 0.1}),
		"in progress": enc(seg(false)),
		"complete":    enc(seg(true)),
		"fetch":       enc(map[string]any{"type": "subsegment", "name": "fetch", "id": "aaaaaaaaaaaaaaa2", "parent_id": "aaaaaaaaaaaaaaa1", "trace_id": trace, "start_time": byIDStart + 2, "end_time": byIDStart + 3}),
	}
}

// attemptSpan is what one attempt traced with OpenTelemetry exports, as
// OTLP spans, by name: the root span "complete" (a SERVER span under
// submit's segment, the service BatchJob, counting its one child as
// internal/jobrunner's root does) and its child "fetch"; the same IDs and
// times as attemptDocuments.
func attemptSpan(trace, name string) *tracepb.Span {
	tid, _ := hex.DecodeString(strings.ReplaceAll(strings.TrimPrefix(trace, "1-"), "-", ""))
	id := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	ns := func(sec float64) uint64 { return uint64(sec * 1e9) }
	str := func(k, v string) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
	}
	num := func(k string, v int64) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
	}
	if name == "fetch" {
		return &tracepb.Span{TraceId: tid, SpanId: id("aaaaaaaaaaaaaaa2"), ParentSpanId: id("aaaaaaaaaaaaaaa1"), Name: "fetch",
			Kind: tracepb.Span_SPAN_KIND_INTERNAL, StartTimeUnixNano: ns(byIDStart + 2), EndTimeUnixNano: ns(byIDStart + 3)}
	}
	listed := &commonpb.KeyValue{Key: "aws.xray.annotations", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{
		Values: []*commonpb.AnyValue{{Value: &commonpb.AnyValue_StringValue{StringValue: "job_id"}}, {Value: &commonpb.AnyValue_StringValue{StringValue: "attempt"}}},
	}}}}
	return &tracepb.Span{TraceId: tid, SpanId: id("aaaaaaaaaaaaaaa1"), ParentSpanId: id("aaaaaaaaaaaaaaa0"), Name: "BatchJob",
		Kind: tracepb.Span_SPAN_KIND_SERVER, StartTimeUnixNano: ns(byIDStart + 1), EndTimeUnixNano: ns(byIDStart + 4),
		Attributes: []*commonpb.KeyValue{str("job_id", "job-1"), num("attempt", 1), listed, num(otelSubsegments, 1)}}
}

// exportSpan posts sp to the OTLP/HTTP receiver at url, protobuf encoded,
// as the OpenTelemetry SDK's exporter does, from the service BatchJob.
func exportSpan(t *testing.T, url string, sp *tracepb.Span) {
	t.Helper()
	body, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource:   &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "BatchJob"}}}}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{sp}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out coltracepb.ExportTraceServiceResponse
	b, _ := io.ReadAll(resp.Body)
	if err := proto.Unmarshal(b, &out); resp.StatusCode != http.StatusOK || err != nil || out.PartialSuccess.GetRejectedSpans() != 0 {
		t.Fatalf("export %s: %s %v %v", sp.Name, resp.Status, err, out.PartialSuccess)
	}
}
