package report

import (
	"math"
	"testing"
)

// TestSubsegmentShare: a subsegment's share is of the time the trace's
// segments cover. A job submitted by batchxray has submit's short root
// segment with the job's segment below it (depth 1): counting the root
// alone made a 5 s call thousands of percent of its trace. A downstream
// segment inside the job's counts once.
func TestSubsegmentShare(t *testing.T) {
	tr := Trace{ID: "1-a", JobID: "job-1", Spans: []Span{
		{Name: "batchxray submit", Start: 100, End: 100.5, Depth: 0, Segment: true},
		{Name: "Batch", Start: 100.1, End: 100.4, Depth: 1},
		{Name: "BatchJob", Start: 110, End: 119.5, Depth: 1, Segment: true},
		{Name: "S3", Start: 111, End: 116, Depth: 2},
		{Name: "downstream", Start: 112, End: 114, Depth: 3, Segment: true},
	}}
	got := map[string]float64{}
	for _, s := range Compute(Input{Traces: []Trace{tr}}, at(0), DefaultSlowest).Subsegments {
		got[s.Name] = s.Share
	}
	// 0.5 s of submit and 9.5 s of the job: 10 s.
	for name, want := range map[string]float64{"S3": 0.5, "Batch": 0.03} {
		if math.Abs(got[name]-want) > 1e-9 {
			t.Errorf("%s share %v, want %v (of 10 s)", name, got[name], want)
		}
	}
	if _, ok := got["downstream"]; ok {
		t.Error("a downstream segment counted as a call")
	}
}
