package xray

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// attributes turns OTLP key-values into Go values: strings, bools,
// float64 for numbers, []any for arrays, map[string]any for key-value
// lists.
func attributes(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = anyValue(kv.Value)
	}
	return m
}

func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_IntValue:
		return float64(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BytesValue:
		return hex.EncodeToString(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		out := []any{}
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, anyValue(e))
		}
		return out
	case *commonpb.AnyValue_KvlistValue:
		return attributes(x.KvlistValue.GetValues())
	}
	return nil
}

// take returns the first of keys present in attrs as a string or number,
// and removes every one of them: an attribute mapped to a segment field is
// not metadata too.
func take(attrs map[string]any, keys ...string) any {
	var found any
	for _, k := range keys {
		if v, ok := attrs[k]; ok {
			if found == nil {
				found = v
			}
			delete(attrs, k)
		}
	}
	return found
}

func takeString(attrs map[string]any, keys ...string) string {
	s, _ := take(attrs, keys...).(string)
	return s
}

// spanToSegment converts one OpenTelemetry span into an X-Ray segment
// document by AWS's OpenTelemetry-to-X-Ray mapping:
//   - a SERVER or CONSUMER span, or one without a parent, is a segment
//     named by the resource's service.name; other spans are subsegments
//     (type subsegment, parent_id the parent span) named by the span;
//   - the trace ID's 32 hex digits are 1-<first 8>-<other 24>;
//   - a CLIENT span calling an AWS API (rpc.system aws-api) is namespace aws,
//     named by rpc.service, with aws.operation and the resource it names;
//     another CLIENT or PRODUCER span with HTTP attributes is namespace
//     remote;
//   - HTTP attributes (old and new semantic conventions) fill http;
//   - an HTTP status 429 is throttle and error, other 4xx error, 5xx
//     fault; otherwise an ERROR status is fault;
//   - the attributes listed in aws.xray.annotations are annotations (key
//     characters other than letters, digits and _ become _), every other
//     attribute is metadata in the default namespace.
func spanToSegment(sp *tracepb.Span, resource map[string]any) ([]byte, error) {
	if len(sp.TraceId) != 16 || len(sp.SpanId) != 8 {
		return nil, errors.New("trace ID must be 16 bytes and span ID 8")
	}
	if sp.EndTimeUnixNano == 0 || sp.EndTimeUnixNano < sp.StartTimeUnixNano {
		return nil, errors.New("the span has no end time, or ends before it starts")
	}
	tid := hex.EncodeToString(sp.TraceId)
	doc := map[string]any{
		"id":         hex.EncodeToString(sp.SpanId),
		"trace_id":   "1-" + tid[:8] + "-" + tid[8:],
		"start_time": float64(sp.StartTimeUnixNano) / 1e9,
		"end_time":   float64(sp.EndTimeUnixNano) / 1e9,
	}
	hasParent := len(sp.ParentSpanId) == 8
	if hasParent {
		doc["parent_id"] = hex.EncodeToString(sp.ParentSpanId)
	}
	attrs := attributes(sp.Attributes)
	kind := sp.Kind
	segment := kind == tracepb.Span_SPAN_KIND_SERVER || kind == tracepb.Span_SPAN_KIND_CONSUMER || !hasParent

	name := sp.Name
	if segment {
		if svc, _ := resource["service.name"].(string); svc != "" {
			name = svc
		}
	} else {
		doc["type"] = "subsegment"
	}

	// HTTP.
	req, resp := map[string]any{}, map[string]any{}
	if m := takeString(attrs, "http.request.method", "http.method"); m != "" {
		req["method"] = m
	}
	u := takeString(attrs, "url.full", "http.url")
	host := takeString(attrs, "server.address", "net.peer.name", "http.host")
	if u == "" && host != "" {
		scheme := takeString(attrs, "url.scheme", "http.scheme")
		if scheme == "" {
			scheme = "http"
		}
		u = (&url.URL{Scheme: scheme, Host: host, Path: takeString(attrs, "url.path", "http.target")}).String()
	}
	if u != "" {
		req["url"] = u
	}
	if ua := takeString(attrs, "user_agent.original", "http.user_agent"); ua != "" {
		req["user_agent"] = ua
	}
	if ip := takeString(attrs, "client.address", "http.client_ip"); ip != "" {
		req["client_ip"] = ip
	}
	status, _ := take(attrs, "http.response.status_code", "http.status_code").(float64)
	if status > 0 {
		resp["status"] = status
	}
	if n, ok := take(attrs, "http.response.body.size", "http.response_content_length").(float64); ok {
		resp["content_length"] = n
	}
	if len(req) > 0 || len(resp) > 0 {
		h := map[string]any{}
		if len(req) > 0 {
			h["request"] = req
		}
		if len(resp) > 0 {
			h["response"] = resp
		}
		doc["http"] = h
	}

	// Calls to AWS and remote services.
	client := kind == tracepb.Span_SPAN_KIND_CLIENT || kind == tracepb.Span_SPAN_KIND_PRODUCER
	if rpc, _ := attrs["rpc.system"].(string); client && rpc == "aws-api" {
		delete(attrs, "rpc.system")
		doc["namespace"] = "aws"
		if svc := takeString(attrs, "rpc.service"); svc != "" {
			name = svc
		}
		a := map[string]any{}
		if op := takeString(attrs, "rpc.method"); op != "" {
			a["operation"] = op
		}
		if id := takeString(attrs, "aws.request_id"); id != "" {
			a["request_id"] = id
		}
		if r := takeString(attrs, "aws.region", "cloud.region"); r != "" {
			a["region"] = r
		}
		if tables, ok := take(attrs, "aws.dynamodb.table_names").([]any); ok && len(tables) > 0 {
			a["table_name"] = tables[0]
		}
		if b := takeString(attrs, "aws.s3.bucket"); b != "" {
			a["bucket_name"] = b
		}
		if q := takeString(attrs, "aws.sqs.queue_url"); q != "" {
			a["queue_url"] = q
		}
		doc["aws"] = a
	} else if client && doc["http"] != nil {
		doc["namespace"] = "remote"
		if host != "" {
			name = host
		}
	}
	doc["name"] = segmentName(name)

	// Status.
	switch {
	case status == 429:
		doc["error"], doc["throttle"] = true, true
	case status >= 400 && status < 500:
		doc["error"] = true
	case status >= 500:
		doc["fault"] = true
	case sp.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR:
		doc["fault"] = true
	}

	// Annotations and metadata.
	listed := map[string]bool{}
	switch keys := take(attrs, "aws.xray.annotations").(type) {
	case []any:
		for _, k := range keys {
			if s, ok := k.(string); ok {
				listed[s] = true
			}
		}
	case string:
		listed[keys] = true
	}
	annotations, metadata := map[string]any{}, map[string]any{}
	for k, v := range attrs {
		switch v.(type) {
		case string, bool, float64:
			if listed[k] {
				annotations[sanitizeAnnotationKey(k)] = v
				continue
			}
		}
		metadata[k] = v
	}
	if len(annotations) > 0 {
		doc["annotations"] = annotations
	}
	if len(metadata) > 0 {
		doc["metadata"] = map[string]any{"default": metadata}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode segment: %w", err)
	}
	return b, nil
}

// sanitizeAnnotationKey keeps letters, digits and _ of an attribute key, the
// characters X-Ray's annotation keys may hold.
func sanitizeAnnotationKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '_' || r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return r
		}
		return '_'
	}, k)
}

// segmentName makes a span name a valid segment name: characters X-Ray
// refuses become _, and it is cut at 200 characters.
func segmentName(name string) string {
	if name == "" {
		name = "unnamed"
	}
	out := []rune(strings.Map(func(r rune) rune {
		if validName(string(r)) {
			return r
		}
		return '_'
	}, name))
	if len(out) > 200 {
		out = out[:200]
	}
	return string(out)
}
