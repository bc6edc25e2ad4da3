package xray

import (
	"encoding/json"
	"math"
	"strings"
	"time"
)

// SpansLogGroup is the log group Transaction Search writes spans to, and
// spansLogStream the stream in it.
const (
	SpansLogGroup  = "aws/spans"
	spansLogStream = "default"
)

// spanRecord is one span as Transaction Search stores it in aws/spans
// and ListRetrievedTraces returns it in the OTEL format: OpenTelemetry's
// span fields, IDs in hex.
type spanRecord struct {
	TraceID           string         `json:"traceId"`
	SpanID            string         `json:"spanId"`
	ParentSpanID      string         `json:"parentSpanId,omitempty"`
	Name              string         `json:"name"`
	Kind              string         `json:"kind"`
	StartTimeUnixNano int64          `json:"startTimeUnixNano"`
	EndTimeUnixNano   int64          `json:"endTimeUnixNano,omitempty"`
	DurationNano      int64          `json:"durationNano,omitempty"`
	Attributes        map[string]any `json:"attributes,omitempty"`
	Status            struct {
		Code string `json:"code"`
	} `json:"status"`
}

// otelTraceID is the 32-hex W3C form of an X-Ray trace ID
// (1-5759e988-bd862e3fe1be46a994272793 → 5759e988bd862e3fe1be46a994272793).
func otelTraceID(xrayID string) string {
	return strings.ReplaceAll(strings.TrimPrefix(xrayID, "1-"), "-", "")
}

// spanRecords flattens a segment or subsegment document and its
// subsegments into spans: a segment is a SERVER span, a subsegment that
// calls a service a CLIENT span, any other subsegment INTERNAL.
func spanRecords(d *segDoc) []spanRecord {
	var out []spanRecord
	var walk func(n *segDoc, parent string, sub bool)
	walk = func(n *segDoc, parent string, sub bool) {
		r := spanRecord{TraceID: otelTraceID(d.TraceID), SpanID: n.ID, ParentSpanID: parent, Name: n.Name, Kind: "SERVER"}
		if sub {
			r.Kind = "INTERNAL"
			if callNamespace(n.Namespace) {
				r.Kind = "CLIENT"
			}
		}
		nanos := func(s float64) int64 { return int64(math.Round(s * 1e9)) }
		if n.StartTime != nil {
			r.StartTimeUnixNano = nanos(*n.StartTime)
		}
		if n.EndTime != nil {
			r.EndTimeUnixNano = nanos(*n.EndTime)
			r.DurationNano = r.EndTimeUnixNano - r.StartTimeUnixNano
		}
		r.Status.Code = "UNSET"
		if n.Error || n.Fault {
			r.Status.Code = "ERROR"
		}
		attrs := map[string]any{}
		if len(n.Annotations) > 0 {
			keys := make([]string, 0, len(n.Annotations))
			for k, v := range n.Annotations {
				attrs[k] = v
				keys = append(keys, k)
			}
			attrs["aws.xray.annotations"] = keys
		}
		if n.Namespace != "" {
			attrs["aws.xray.namespace"] = n.Namespace
		}
		if n.Origin != "" {
			attrs["aws.origin"] = n.Origin
		}
		if h := n.HTTP; h != nil {
			if h.Request.Method != "" {
				attrs["http.request.method"] = h.Request.Method
			}
			if h.Request.URL != "" {
				attrs["url.full"] = h.Request.URL
			}
			if h.Response.Status != nil {
				attrs["http.response.status_code"] = *h.Response.Status
			}
		}
		if len(attrs) > 0 {
			r.Attributes = attrs
		}
		out = append(out, r)
		for i := range n.Subsegments {
			walk(&n.Subsegments[i], n.ID, true)
		}
	}
	walk(d, d.ParentID, d.isSubsegment())
	return out
}

// writeSpans writes a document's spans to aws/spans, as Transaction Search
// does with every segment it receives.
func (s *Service) writeSpans(d *segDoc) {
	for _, r := range spanRecords(d) {
		b, err := json.Marshal(r)
		if err != nil {
			continue // a record of strings and numbers always encodes
		}
		s.cfg.Spans.Write(SpansLogGroup, spansLogStream, time.Unix(0, r.StartTimeUnixNano), string(b))
	}
}
