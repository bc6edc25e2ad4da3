package report

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	common "go.opentelemetry.io/proto/otlp/common/v1"
	resource "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// otlpTrace is one trace to write as OTLP: its X-Ray ID and its spans,
// parents first.
type otlpTrace struct {
	ID    string
	Spans []otlpSpan
}

// scopeName names the instrumentation scope of the spans batchxray writes.
const scopeName = "batchxray"

// OTLP writes traces as one OTLP ExportTraceServiceRequest in OTLP JSON,
// the file format otel-tui and Jaeger load: each X-Ray segment's service
// becomes a resource (service.name), each segment and subsegment a span.
// The request is built with the OTLP protobuf types and written with the
// protobuf JSON mapping, except that trace and span IDs are hex strings,
// as OTLP JSON requires, rather than base64.
func OTLP(ts []otlpTrace) ([]byte, error) {
	req, err := otlpRequest(ts)
	if err != nil {
		return nil, err
	}
	b, err := protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("write OTLP JSON: %w", err)
	}
	return recodeIDs(b, base64ToHex)
}

// ParseOTLP reads OTLP JSON as OTLP writes it back into the protobuf types,
// refusing anything the OTLP schema does not have.
func ParseOTLP(b []byte) (*coltrace.ExportTraceServiceRequest, error) {
	b, err := recodeIDs(b, hexToBase64)
	if err != nil {
		return nil, err
	}
	req := &coltrace.ExportTraceServiceRequest{}
	if err := protojson.Unmarshal(b, req); err != nil {
		return nil, fmt.Errorf("read OTLP JSON: %w", err)
	}
	return req, nil
}

func otlpRequest(ts []otlpTrace) (*coltrace.ExportTraceServiceRequest, error) {
	byService := map[string]*tracepb.ScopeSpans{}
	var services []string
	for _, t := range ts {
		traceID, err := otlpTraceID(t.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range t.Spans {
			sp, err := otlpSpanOf(traceID, s)
			if err != nil {
				return nil, fmt.Errorf("trace %s: %w", t.ID, err)
			}
			ss := byService[s.Service]
			if ss == nil {
				ss = &tracepb.ScopeSpans{Scope: &common.InstrumentationScope{Name: scopeName}}
				byService[s.Service] = ss
				services = append(services, s.Service)
			}
			ss.Spans = append(ss.Spans, sp)
		}
	}
	req := &coltrace.ExportTraceServiceRequest{}
	for _, name := range services {
		req.ResourceSpans = append(req.ResourceSpans, &tracepb.ResourceSpans{
			Resource:   &resource.Resource{Attributes: []*common.KeyValue{str("service.name", name)}},
			ScopeSpans: []*tracepb.ScopeSpans{byService[name]},
		})
	}
	return req, nil
}

// otlpTraceID is the 16 bytes of an X-Ray trace ID, 1-<8 hex>-<24 hex>.
func otlpTraceID(id string) ([]byte, error) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 || parts[0] != "1" || len(parts[1]) != 8 || len(parts[2]) != 24 {
		return nil, fmt.Errorf("trace ID %q is not an X-Ray trace ID (1-<8 hex>-<24 hex>)", id)
	}
	b, err := hex.DecodeString(parts[1] + parts[2])
	if err != nil {
		return nil, fmt.Errorf("trace ID %q: %w", id, err)
	}
	return b, nil
}

func otlpSpanID(id string) ([]byte, error) {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 8 {
		return nil, fmt.Errorf("span ID %q is not 16 hex digits", id)
	}
	return b, nil
}

func otlpSpanOf(traceID []byte, s otlpSpan) (*tracepb.Span, error) {
	id, err := otlpSpanID(s.ID)
	if err != nil {
		return nil, err
	}
	sp := &tracepb.Span{
		TraceId: traceID, SpanId: id, Name: s.Name,
		Kind:              tracepb.Span_SPAN_KIND_INTERNAL,
		StartTimeUnixNano: nanos(s.Start), EndTimeUnixNano: nanos(s.End),
	}
	if s.ParentID != "" {
		if sp.ParentSpanId, err = otlpSpanID(s.ParentID); err != nil {
			return nil, err
		}
	}
	switch {
	case s.Namespace == "aws" || s.Namespace == "remote":
		sp.Kind = tracepb.Span_SPAN_KIND_CLIENT
	case s.Segment:
		sp.Kind = tracepb.Span_SPAN_KIND_SERVER
	}
	if s.InProgress {
		// OTLP has no open span: it ends where it began, marked.
		sp.EndTimeUnixNano = sp.StartTimeUnixNano
		sp.Attributes = append(sp.Attributes, boolean("xray.in_progress", true))
	}
	if s.Fault || s.Error || s.Throttle {
		sp.Status = &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: s.Message}
	}
	for _, kv := range []struct {
		key string
		on  bool
	}{{"xray.fault", s.Fault}, {"xray.error", s.Error}, {"xray.throttle", s.Throttle}} {
		if kv.on {
			sp.Attributes = append(sp.Attributes, boolean(kv.key, true))
		}
	}
	if s.Namespace != "" {
		sp.Attributes = append(sp.Attributes, str("xray.namespace", s.Namespace))
	}
	if s.Operation != "" {
		sp.Attributes = append(sp.Attributes, str("rpc.method", s.Operation))
	}
	if s.Method != "" {
		sp.Attributes = append(sp.Attributes, str("http.request.method", s.Method))
	}
	if s.Status != 0 {
		sp.Attributes = append(sp.Attributes, integer("http.response.status_code", int64(s.Status)))
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.Annotations {
			if !yield(k) {
				return
			}
		}
	}) {
		sp.Attributes = append(sp.Attributes, annotation("xray.annotation."+k, s.Annotations[k]))
	}
	return sp, nil
}

func nanos(sec float64) uint64 {
	if sec <= 0 {
		return 0
	}
	return uint64(math.Round(sec * 1e9))
}

func str(k, v string) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_StringValue{StringValue: v}}}
}

func boolean(k string, v bool) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_BoolValue{BoolValue: v}}}
}

func integer(k string, v int64) *common.KeyValue {
	return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_IntValue{IntValue: v}}}
}

// annotation is an X-Ray annotation (string, number or boolean) as an
// attribute.
func annotation(k string, v any) *common.KeyValue {
	switch v := v.(type) {
	case bool:
		return boolean(k, v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return integer(k, int64(v))
		}
		return &common.KeyValue{Key: k, Value: &common.AnyValue{Value: &common.AnyValue_DoubleValue{DoubleValue: v}}}
	case string:
		return str(k, v)
	}
	return str(k, fmt.Sprint(v))
}

// recodeIDs rewrites the traceId, spanId and parentSpanId strings of OTLP
// JSON with conv.
func recodeIDs(b []byte, conv func(string) (string, error)) ([]byte, error) {
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read OTLP JSON: %w", err)
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
					c, err := conv(s)
					if err != nil {
						return fmt.Errorf("%s %q: %w", k, s, err)
					}
					v[k] = c
					continue
				}
				if err := walk(x); err != nil {
					return err
				}
			}
		case []any:
			for _, x := range v {
				if err := walk(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(doc); err != nil {
		return nil, err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func base64ToHex(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	return hex.EncodeToString(b), err
}

func hexToBase64(s string) (string, error) {
	b, err := hex.DecodeString(s)
	return base64.StdEncoding.EncodeToString(b), err
}
