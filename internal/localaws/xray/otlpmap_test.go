package xray

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// The segment name and namespace by the mapping's order of attributes.
func TestSegmentNameOf(t *testing.T) {
	s := func(k, v string) *commonpb.KeyValue {
		return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
	}
	const (
		server   = tracepb.Span_SPAN_KIND_SERVER
		client   = tracepb.Span_SPAN_KIND_CLIENT
		internal = tracepb.Span_SPAN_KIND_INTERNAL
		consumer = tracepb.Span_SPAN_KIND_CONSUMER
	)
	tests := []struct {
		name           string
		kind           tracepb.Span_SpanKind
		parent         bool
		span           string
		attrs          []*commonpb.KeyValue
		wantName, ns   string
		wantSubsegment bool
	}{
		{"server: the resource's service", server, true, "BatchJob attempt 1", nil, "Svc", "", false},
		{"root without kind: its own name", internal, false, "job", nil, "job", "", false},
		{"internal child", internal, true, "fetch", nil, "fetch", "", true},
		{"consumer with a parent is a subsegment", consumer, true, "recv", nil, "recv", "", true},
		{"AWS SDK call: rpc.service", client, true, "S3.PutObject", []*commonpb.KeyValue{s("rpc.system", "aws-api"), s("rpc.service", "S3"), s("rpc.method", "PutObject")}, "S3", "aws", true},
		{"aws.service before rpc.service", client, true, "x", []*commonpb.KeyValue{s("aws.service", "DynamoDB"), s("rpc.service", "Other")}, "DynamoDB", "aws", true},
		{"peer.service first", client, true, "x", []*commonpb.KeyValue{s("peer.service", "billing"), s("http.host", "h:1")}, "billing", "remote", true},
		{"http.host keeps the port", client, true, "GET", []*commonpb.KeyValue{s("http.host", "127.0.0.1:8080"), s("net.peer.name", "127.0.0.1")}, "127.0.0.1:8080", "remote", true},
		{"net.peer.name", client, true, "GET", []*commonpb.KeyValue{s("net.peer.name", "example.com")}, "example.com", "remote", true},
		{"server.address names nothing", client, true, "GET", []*commonpb.KeyValue{s("server.address", "example.com")}, "GET", "remote", true},
		{"invalid characters removed", internal, true, "a<b>!", nil, "ab", "", true},
		{"nothing valid left", internal, true, "<>", nil, "span", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &tracepb.Span{TraceId: make([]byte, 16), SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Name: tt.span, Kind: tt.kind,
				StartTimeUnixNano: 1, EndTimeUnixNano: 2, Attributes: tt.attrs}
			if tt.parent {
				sp.ParentSpanId = []byte{8, 7, 6, 5, 4, 3, 2, 1}
			}
			b, err := spanToSegment(sp, map[string]any{"service.name": "Svc"})
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Name, Namespace, Type string }
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Name != tt.wantName || doc.Namespace != tt.ns || (doc.Type == "subsegment") != tt.wantSubsegment {
				t.Errorf("name %q namespace %q type %q, want %q %q subsegment=%v", doc.Name, doc.Namespace, doc.Type, tt.wantName, tt.ns, tt.wantSubsegment)
			}
		})
	}
}

// Which attributes become annotations and which metadata, and where: the
// job's root span lists its annotation keys; everything else, its count of
// subsegments too, is metadata in the default namespace under its full key.
func TestSpanAttributesToAnnotationsAndMetadata(t *testing.T) {
	str := func(v string) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}
	}
	num := func(v int64) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}
	}
	list := func(vs ...*commonpb.AnyValue) *commonpb.AnyValue {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vs}}}
	}
	tests := []struct {
		name            string
		attrs           map[string]*commonpb.AnyValue
		wantAnnotations map[string]any
		wantMetadata    map[string]map[string]any
	}{
		{
			name: "the job's root span",
			attrs: map[string]*commonpb.AnyValue{
				"job_id": str("job-1"), "attempt": num(2), "aws.xray.annotations": list(str("job_id"), str("attempt")),
				"batchxray.subsegments": num(8), "batchxray.version": str("v1"),
			},
			wantAnnotations: map[string]any{"job_id": "job-1", "attempt": 2.0},
			wantMetadata:    map[string]map[string]any{"default": {"batchxray.subsegments": 8.0, "batchxray.version": "v1"}},
		},
		{
			name:            "a listed key whose value no annotation can hold is dropped",
			attrs:           map[string]*commonpb.AnyValue{"tags": list(str("a")), "aws.xray.annotations": list(str("tags"), num(3))},
			wantAnnotations: nil,
			wantMetadata:    nil,
		},
		{
			name:            "aws.xray.annotations that is no array lists nothing",
			attrs:           map[string]*commonpb.AnyValue{"job_id": str("job-1"), "aws.xray.annotations": str("job_id")},
			wantAnnotations: nil,
			wantMetadata:    map[string]map[string]any{"default": {"job_id": "job-1", "aws.xray.annotations": "job_id"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := &tracepb.Span{TraceId: make([]byte, 16), SpanId: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Name: "BatchJob",
				Kind: tracepb.Span_SPAN_KIND_SERVER, StartTimeUnixNano: 1, EndTimeUnixNano: 2}
			for k, v := range tt.attrs {
				sp.Attributes = append(sp.Attributes, &commonpb.KeyValue{Key: k, Value: v})
			}
			b, err := spanToSegment(sp, map[string]any{"service.name": "BatchJob"})
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Annotations map[string]any
				Metadata    map[string]map[string]any
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.wantAnnotations, doc.Annotations); d != "" {
				t.Errorf("annotations (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantMetadata, doc.Metadata); d != "" {
				t.Errorf("metadata (-want +got):\n%s", d)
			}
		})
	}
}
