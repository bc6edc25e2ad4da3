package report

import (
	"encoding/json"
	"regexp"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/batchxray/batchxray/internal/traces"
)

// otlpDocs is a trace as BatchGetTraces returns it: the submit segment, the
// job's segment with an embedded S3 call that X-Ray drew an inferred
// segment for, an HTTP call that failed sent on its own, and a subsegment
// still in progress.
var otlpDocs = []string{
	`{"id":"a000000000000001","trace_id":"1-6927b1c0-0123456789abcdef01234567","name":"batchxray submit","start_time":1764500000.0,"end_time":1764500000.2}`,
	`{"id":"b000000000000001","trace_id":"1-6927b1c0-0123456789abcdef01234567","parent_id":"a000000000000001","name":"BatchJob","start_time":1764500001.0,"end_time":1764500003.5,
	  "fault":true,"cause":{"exceptions":[{"type":"ExitError","message":"exit status 3"}]},
	  "annotations":{"job_id":"job-1","attempt":1,"retried":false,"ratio":0.5},
	  "subsegments":[{"id":"c000000000000001","name":"S3","namespace":"aws","start_time":1764500001.1,"end_time":1764500001.4,"aws":{"operation":"PutObject"},"http":{"response":{"status":200}}},
	                 {"id":"c000000000000003","name":"work","start_time":1764500001.5,"in_progress":true}]}`,
	`{"id":"c000000000000002","trace_id":"1-6927b1c0-0123456789abcdef01234567","type":"subsegment","parent_id":"b000000000000001","name":"example.com","namespace":"remote",
	  "start_time":1764500002.0,"end_time":1764500002.1,"error":true,"http":{"request":{"method":"GET","url":"https://example.com/x"},"response":{"status":404}}}`,
	`{"id":"d000000000000001","trace_id":"1-6927b1c0-0123456789abcdef01234567","parent_id":"c000000000000001","name":"S3","inferred":true,"origin":"AWS::S3::Bucket","start_time":1764500001.1,"end_time":1764500001.4}`,
}

func TestOTLPRoundTrip(t *testing.T) {
	tr, err := traces.ParseTrace("1-6927b1c0-0123456789abcdef01234567", otlpDocs)
	if err != nil {
		t.Fatal(err)
	}
	out, err := OTLPTraces([]*traces.Trace{tr})
	if err != nil {
		t.Fatal(err)
	}
	// OTLP JSON: IDs in hex, enums as numbers, lowerCamelCase keys.
	var doc struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []struct {
					Key   string `json:"key"`
					Value struct {
						StringValue string `json:"stringValue"`
					} `json:"value"`
				} `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []struct {
					TraceID      string `json:"traceId"`
					SpanID       string `json:"spanId"`
					ParentSpanID string `json:"parentSpanId"`
					Name         string `json:"name"`
					Kind         int    `json:"kind"`
					Start        string `json:"startTimeUnixNano"`
					Status       *struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"status"`
				} `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	services := map[string]int{}
	spans := map[string]string{} // span ID -> parent ID
	hexID := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, rs := range doc.ResourceSpans {
		if len(rs.Resource.Attributes) != 1 || rs.Resource.Attributes[0].Key != "service.name" {
			t.Fatalf("resource attributes %+v, want service.name", rs.Resource.Attributes)
		}
		name := rs.Resource.Attributes[0].Value.StringValue
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				services[name]++
				spans[s.SpanID] = s.ParentSpanID
				if s.TraceID != "6927b1c00123456789abcdef01234567" || !hexID.MatchString(s.SpanID) {
					t.Errorf("span %s: trace ID %q, span ID %q: want hex", s.Name, s.TraceID, s.SpanID)
				}
				if s.Name == "BatchJob" && (s.Kind != 2 || s.Status == nil || s.Status.Code != 2 || s.Status.Message != "ExitError: exit status 3") {
					t.Errorf("BatchJob kind %d status %+v: want a server span with an error status", s.Kind, s.Status)
				}
				if s.Name == "example.com" && s.Kind != 3 {
					t.Errorf("example.com kind %d, want client", s.Kind)
				}
			}
		}
	}
	if len(spans) != 6 {
		t.Errorf("%d spans, want 6: %v", len(spans), spans)
	}
	wantParents := map[string]string{"b000000000000001": "a000000000000001", "c000000000000002": "b000000000000001", "d000000000000001": "c000000000000001", "a000000000000001": ""}
	for id, p := range wantParents {
		if spans[id] != p {
			t.Errorf("span %s has parent %q, want %q", id, spans[id], p)
		}
	}
	if services["batchxray submit"] != 1 || services["BatchJob"] != 4 || services["S3"] != 1 {
		t.Errorf("spans by service %v", services)
	}

	// The file reads back into the OTLP protobuf types, unknown fields
	// refused, as the very request it was written from.
	back, err := ParseOTLP(out)
	if err != nil {
		t.Fatalf("round trip: %v\n%s", err, out)
	}
	want, err := otlpRequest([]otlpTrace{{ID: tr.ID, Spans: otlpSpans(tr)}})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(back, want) {
		t.Errorf("round trip changed the request:\n got %v\nwant %v", back, want)
	}
	if _, err := ParseOTLP([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"nmae":"typo"}]}]}]}`)); err == nil {
		t.Error("a field OTLP does not have was accepted")
	}
	if _, err := OTLP([]otlpTrace{{ID: "not-an-xray-id"}}); err == nil {
		t.Error("a malformed trace ID was accepted")
	}
}
