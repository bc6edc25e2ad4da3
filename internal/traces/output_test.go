package traces

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
)

func TestOutputGolden(t *testing.T) {
	rj, rt := retryJob()
	// The failed attempts' last lines, as trace draws them: one read, one
	// that could not be.
	logs := []AttemptLog{
		{Attempt: 1, Lines: []string{"importing 1,204 rows", "row 1187:\tbad date \"2026-13-01\""}},
		{Attempt: 2, Unreadable: "no permission to read it (logs:GetLogEvents)"},
	}
	tests := []struct {
		name string
		v    View
	}{
		{"json-job", View{Job: nightlyJob(), Traces: loadTraces(t, "batchgettraces-job.json")}},
		{"json-retry", View{Job: rj, Traces: rt}},
		{"json-retry-logs", View{Job: rj, Traces: rt, Logs: logs}},
		{"json-array", arrayView()},
		// An attempt still running and one killed: their in-progress
		// segments, marked, with Batch's reason for the killed one.
		{"json-running", View{Job: stateJob(jobs.Running), Traces: []*Trace{inProgressTrace()}}},
		{"json-killed", View{Job: stateJob(jobs.Failed), Traces: []*Trace{inProgressTrace()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.MarshalIndent(NewOutput(tt.v, at(3600)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden.AssertString(t, tt.name+".json.golden", string(b)+"\n")
		})
	}
}

// TestOutputDocumentsAreObjects guards the point of the JSON form: the
// documents are objects, not the escaped strings of BatchGetTraces.
func TestOutputDocumentsAreObjects(t *testing.T) {
	b, err := json.Marshal(NewOutput(View{Job: nightlyJob(), Traces: loadTraces(t, "batchgettraces-job.json")}, at(3600)))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Traces []struct {
			Documents []map[string]any `json:"documents"`
		} `json:"traces"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 || len(out.Traces[0].Documents) != 2 {
		t.Fatalf("got %d traces, want 1 with 2 documents", len(out.Traces))
	}
	subs, ok := out.Traces[0].Documents[0]["subsegments"].([]any)
	if !ok || len(subs) != 7 {
		t.Errorf("subsegments = %T of %d, want 7 objects", out.Traces[0].Documents[0]["subsegments"], len(subs))
	}
	if strings.Contains(string(b), `\"`) {
		t.Error("the output holds escaped JSON")
	}
}

// TestOutputSameInBothModes: the JSON of a job's trace is the same whether
// X-Ray returned it (BatchGetTraces) or a retrieval did (Transaction
// Search, nothing indexed), for a killed attempt's in-progress segment with
// its streamed subsegment as for a complete one.
func TestOutputSameInBothModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		docs   []string
		exit   int32
		reason string
	}{
		{"complete", []string{"submit", "in progress", "fetch", "complete"}, 0, ""},
		{"killed", []string{"submit", "in progress", "fetch"}, 137, oomReason},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var outs []string
			for _, xc := range []xraysvc.Config{
				{},
				{Destination: "CloudWatchLogs", IndexingPercentage: -1, RetrievalDelay: 20 * time.Millisecond},
			} {
				_, cfg := localawstest.Start(t, localaws.Options{XRay: xc})
				c := xray.NewFromConfig(cfg)
				trace := "1-6925d740-000000000000000000000001"
				docs := attemptDocuments(trace, "job-1")
				for _, name := range tc.docs {
					if _, err := c.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{docs[name]}}); err != nil {
						t.Fatal(err)
					}
				}
				d := tagged("job-1", trace, 1)
				d.Attempts[0].Container = &batchtypes.AttemptContainerDetail{ExitCode: aws.Int32(tc.exit), Reason: aws.String(tc.reason)}
				f := NewFinder(c, clockwork.NewRealClock())
				f.MinDelay, f.MaxDelay = 10*time.Millisecond, 20*time.Millisecond
				v, err := Lookup(context.Background(), &describeOnly{t: t, jobs: []batchtypes.JobDetail{d}}, f, "job-1", LookupOptions{Wait: 5 * time.Second})
				if err != nil {
					t.Fatalf("%s: %v", xc.Destination, err)
				}
				b, err := json.MarshalIndent(NewOutput(v, at(3600)), "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, string(b))
			}
			diff(t, "X-Ray against CloudWatch Logs", outs[0], outs[1])
			if !strings.Contains(outs[0], `"name": "fetch"`) {
				t.Errorf("the output lacks the streamed fetch:\n%s", outs[0])
			}
			if want := `"segment": "` + map[string]string{"complete": SegmentComplete, "killed": SegmentKilled}[tc.name] + `"`; !strings.Contains(outs[0], want) {
				t.Errorf("the output lacks %s:\n%s", want, outs[0])
			}
		})
	}
}
