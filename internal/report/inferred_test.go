package report

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/batchxray/batchxray/internal/traces"
)

// TestInferredSegmentsAreNotCalls reads the AWS CLI documentation's recorded
// BatchGetTraces answer, whose DynamoDB call comes with the segment X-Ray
// inferred for the table: the call is one span, not two.
func TestInferredSegmentsAreNotCalls(t *testing.T) {
	b, err := os.ReadFile("../../testdata/xray/aws-cli-batch-get-traces.json")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Traces []struct {
			ID       string `json:"Id"`
			Segments []struct{ Document string }
		}
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, s := range answer.Traces[0].Segments {
		docs = append(docs, s.Document)
	}
	parsed, err := traces.ParseTrace(answer.Traces[0].ID, docs)
	if err != nil {
		t.Fatal(err)
	}
	tr := fromTrace(parsed)
	n := 0
	for _, s := range tr.Spans {
		if s.Name == "DynamoDB" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the DynamoDB call is %d spans, want 1 (spans: %+v)", n, tr.Spans)
	}
}
