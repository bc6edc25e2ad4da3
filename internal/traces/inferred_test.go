package traces

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
)

// awsCLITraceView is the AWS CLI documentation's recorded batch-get-traces
// output (a Java SDK segment, its DynamoDB UpdateItem call and the segment
// X-Ray inferred for DynamoDB), unchanged, under a job that ran it.
func awsCLITraceView(t *testing.T) View {
	ts := loadTraces(t, "aws-cli-batch-get-traces.json")
	start := time.Unix(1568835610, 0).UTC()
	return View{Job: jobs.Job{
		ID: "5d82881a-job", Name: "scorekeep", Status: jobs.Succeeded,
		CreatedAt: start, StartedAt: start, StoppedAt: start.Add(time.Second),
		Attempts: []jobs.Attempt{{StartedAt: start, StoppedAt: start.Add(time.Second), ExitCode: intp(0)}},
	}, Traces: ts}
}

// TestInferredSegmentOnce: the inferred DynamoDB segment is the downstream
// node of the UpdateItem call, so the call is one span, one row and one
// count in the service map, with the table as its origin.
func TestInferredSegmentOnce(t *testing.T) {
	v := awsCLITraceView(t)
	if len(v.Traces) != 1 || len(v.Traces[0].Documents) != 2 {
		t.Fatalf("want one trace of two documents, got %d traces", len(v.Traces))
	}
	sum := Summarize(v.Traces)
	diff(t, "spans", 2, sum.Spans)
	diff(t, "services", []ServiceCount{{Name: "Scorekeep", OK: 1}, {Name: "DynamoDB", OK: 1}}, sum.Services)
	call := v.Traces[0].Roots[0].Children
	if len(call) != 1 || call[0].Origin != "AWS::DynamoDB::Table" || call[0].Operation != "UpdateItem" || len(call[0].Children) != 1 || !call[0].Children[0].Inferred {
		t.Fatalf("the call: %+v", call)
	}
	if n := JobSegments(v.Traces[0]); n != 1 {
		t.Errorf("JobSegments = %d, want 1 (the inferred one is not the job's)", n)
	}
	golden.AssertString(t, "aws-cli-inferred.golden", Render(v, Options{Width: 100, Now: v.Job.StoppedAt.Add(time.Hour)}))
}

// TestInferredOrphan: an inferred segment whose caller is missing (a trace
// still arriving) is kept as a root rather than dropped.
func TestInferredOrphan(t *testing.T) {
	tr := NewTrace("1-x", []Document{{ID: "i1", Name: "S3", Inferred: true, Origin: "AWS::S3::Bucket", ParentID: "gone", StartTime: 1, EndTime: 2}})
	if len(tr.Roots) != 1 || !tr.Roots[0].Inferred || tr.Roots[0].Origin != "AWS::S3::Bucket" {
		t.Fatalf("roots %+v", tr.Roots)
	}
}

func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}
