package traces

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// shape is a span tree reduced to names, for comparing structure.
type shape struct {
	Name     string
	Children []shape `json:",omitempty"`
}

func shapeOf(ss []*Span) []shape {
	var out []shape
	for _, s := range ss {
		out = append(out, shape{Name: s.Name, Children: shapeOf(s.Children)})
	}
	return out
}

func TestParseTraceShapes(t *testing.T) {
	tests := []struct {
		name string
		docs []string
		want []shape
	}{
		{
			name: "embedded subsegments nest to any depth and sort by start",
			docs: []string{`{"id":"s1","name":"Job","start_time":10,"end_time":20,"subsegments":[
				{"id":"b","name":"second","start_time":12,"end_time":13},
				{"id":"a","name":"first","start_time":11,"end_time":12,"subsegments":[
					{"id":"c","name":"deep","start_time":11,"end_time":11.5,"subsegments":[
						{"id":"d","name":"deeper","start_time":11,"end_time":11.1}]}]}]}`},
			want: []shape{{"Job", []shape{{"first", []shape{{"deep", []shape{{"deeper", nil}}}}}, {"second", nil}}}},
		},
		{
			name: "subsegments sent on their own join their parent in any order",
			docs: []string{
				`{"id":"x2","type":"subsegment","parent_id":"x1","trace_id":"1-a","name":"late","start_time":15,"end_time":16}`,
				`{"id":"s1","name":"Job","start_time":10,"end_time":20,"subsegments":[{"id":"x1","name":"work","start_time":11,"end_time":19}]}`,
				`{"id":"x3","type":"subsegment","parent_id":"s1","trace_id":"1-a","name":"open","start_time":12,"in_progress":true}`,
			},
			want: []shape{{"Job", []shape{{"work", []shape{{"late", nil}}}, {"open", nil}}}},
		},
		{
			name: "an orphan subsegment becomes a root",
			docs: []string{
				`{"id":"s1","name":"Job","start_time":10,"end_time":20}`,
				`{"id":"x9","type":"subsegment","parent_id":"gone","name":"orphan","start_time":9,"end_time":9.5}`,
			},
			want: []shape{{"orphan", nil}, {"Job", nil}},
		},
		{
			name: "the finished copy of a subsegment wins over the in-progress one",
			docs: []string{
				`{"id":"s1","name":"Job","start_time":10,"end_time":20}`,
				`{"id":"x1","type":"subsegment","parent_id":"s1","name":"copy","start_time":11,"in_progress":true}`,
				`{"id":"x1","type":"subsegment","parent_id":"s1","name":"copy","start_time":11,"end_time":12}`,
			},
			want: []shape{{"Job", []shape{{"copy", nil}}}},
		},
		{
			name: "a subsegment the SDK embedded twice is drawn once",
			docs: []string{`{"id":"s1","name":"Job","start_time":10,"end_time":20,"subsegments":[
				{"id":"x1","name":"twice","start_time":11,"in_progress":true},
				{"id":"x1","name":"twice","start_time":11,"end_time":12}]}`},
			want: []shape{{"Job", []shape{{"twice", nil}}}},
		},
		{
			name: "a subsegment sent alone and also embedded is drawn once",
			docs: []string{
				`{"id":"x1","type":"subsegment","parent_id":"s1","name":"both","start_time":11,"end_time":12}`,
				`{"id":"s1","name":"Job","start_time":10,"end_time":20,"subsegments":[{"id":"x1","name":"both","start_time":11,"end_time":12}]}`,
			},
			want: []shape{{"Job", []shape{{"both", nil}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := ParseTrace("1-a", tt.docs)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, shapeOf(tr.Roots)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTraceRejectsBadJSON(t *testing.T) {
	if _, err := ParseTrace("1-a", []string{`{"id":`}); err == nil {
		t.Error("ParseTrace accepted a truncated document")
	}
}

// TestSpanFacts checks what the SDK's documents become: an awsv2 call, an
// HTTP call through xray.Client, a failure with its exception, and a cause
// given as an exception ID.
func TestSpanFacts(t *testing.T) {
	tr := loadTraces(t, "batchgettraces-job.json")[0]
	byName := map[string]*Span{}
	tr.Walk(func(s *Span, _ int) {
		key := s.Name + " " + s.Operation + s.Method
		if s.Status >= 400 {
			key += " " + s.Host
		}
		if _, seen := byName[key]; !seen {
			byName[key] = s
		}
	})
	ignore := cmpIgnoreTree()
	tests := []struct {
		key  string
		want Span
	}{
		{"S3 PutObject", Span{ID: "5a1b2c3d4e5f6015", Name: "S3", Namespace: "aws", Service: "S3", Operation: "PutObject", Status: 200}},
		{"example.com GET", Span{ID: "5a1b2c3d4e5f600e", Name: "example.com", Namespace: "remote", Service: "example.com", Method: "GET", Status: 200, Host: "example.com"}},
		{"api.example.com POST api.example.com", Span{ID: "5a1b2c3d4e5f6019", Name: "api.example.com", Namespace: "remote", Service: "api.example.com",
			Method: "POST", Status: 429, Host: "api.example.com", Error: true, Throttle: true}},
		{"S3 GetObject ", Span{ID: "5a1b2c3d4e5f6017", Name: "S3", Namespace: "aws", Service: "S3", Operation: "GetObject", Status: 500, Fault: true,
			Message: "*smithy.OperationError: operation error S3: GetObject, https response error StatusCode: 500, RequestID: Q2B7C1X0V9N8M7L6, HostID: q2Zx8mC0vY3nLw5pR7tK1sD9fG4hJ6aB0cE2iO8uT3yQ=, api error InternalError: We encountered an internal error. Please try again."}},
		{"flush-metrics ", Span{ID: "5a1b2c3d4e5f601c", Name: "flush-metrics", InProgress: true, Segment: false}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := byName[tt.key]
			if !ok {
				t.Fatalf("no span %q", tt.key)
			}
			if diff := cmp.Diff(tt.want, *got, ignore); diff != "" {
				t.Errorf("span (-want +got):\n%s", diff)
			}
		})
	}
	root := tr.Roots[0]
	if !root.Segment || root.Name != "BatchJob" || root.Annotations["job_id"] != "8f2c6d1e-4b7a-4c1d-9e3f-2a5b6c7d8e9f" {
		t.Errorf("root = %s segment=%v annotations=%v, want the BatchJob segment with its job_id", root.Name, root.Segment, root.Annotations)
	}

	var c Cause
	if err := json.Unmarshal([]byte(`"4c4e1a2b3f5d6e7f"`), &c); err != nil || c.ExceptionID != "4c4e1a2b3f5d6e7f" {
		t.Errorf("cause as an exception ID = %+v, %v", c, err)
	}
}

// cmpIgnoreTree leaves out what TestSpanFacts does not state: times, the
// children and the annotations.
func cmpIgnoreTree() cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		switch p.Last().String() {
		case ".Start", ".End", ".Children", ".Annotations":
			return true
		}
		return false
	}, cmp.Ignore())
}
