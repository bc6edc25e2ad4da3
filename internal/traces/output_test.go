package traces

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/batchxray/batchxray/internal/golden"
)

func TestOutputGolden(t *testing.T) {
	rj, rt := retryJob()
	tests := []struct {
		name string
		v    View
	}{
		{"json-job", View{Job: nightlyJob(), Traces: loadTraces(t, "batchgettraces-job.json")}},
		{"json-retry", View{Job: rj, Traces: rt}},
		{"json-array", arrayView()},
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
