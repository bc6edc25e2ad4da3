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
// document by AWS's OpenTelemetry-to-X-Ray mapping, as the CloudWatch agent
// and the ADOT collector apply it (their awsxray exporter):
//   - a SERVER span, or one without a parent, is a segment; any other span
//     is a subsegment (type subsegment, parent_id the parent span);
//   - the trace ID's 32 hex digits are 1-<first 8>-<other 24>;
//   - the name is the first of: peer.service; aws.service; for a SERVER
//     span the resource's service.name; rpc.service; http.host;
//     net.peer.name; else the span's name with the characters X-Ray
//     refuses removed. Newer names (server.address) fill http but never
//     name the segment: the mapping reads the old conventions only;
//   - rpc.system aws-api or an aws.service attribute makes the namespace
//     aws, with aws.operation (else rpc.method), aws.region, aws.request_id
//     and the queue and table it names in aws; any other CLIENT span is
//     namespace remote;
//   - HTTP attributes (old and new semantic conventions) fill http;
//   - an HTTP status 429 is throttle and error, other 4xx error, 5xx
//     fault; otherwise an ERROR status is fault;
//   - the attributes listed in aws.xray.annotations (an array of strings)
//     are annotations (key characters other than letters, digits and _
//     become _), or dropped when their value is no string, number or
//     bool; every other attribute is metadata in the default namespace,
//     under its full key (batchxray.subsegments stays that one key, in
//     namespace default, not batchxray). The awsxray exporter has options
//     (indexed_attributes, index_all_attributes) that make more of them
//     annotations; the agent's and X-Ray's defaults set neither.
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
	kind := sp.Kind
	if kind != tracepb.Span_SPAN_KIND_SERVER && hasParent {
		doc["type"] = "subsegment"
	}
	// The name and namespace come from the attributes as sent; the fields
	// below take theirs out of attrs, so that they are not metadata too.
	sent := attributes(sp.Attributes)
	attrs := attributes(sp.Attributes)
	name, namespace := segmentNameOf(sp, sent, resource)

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

	// Calls to AWS: the fields the mapping reads, wherever the span names
	// them.
	a := map[string]any{}
	if op := takeString(attrs, "aws.operation", "rpc.method"); op != "" {
		a["operation"] = op
	}
	if id := takeString(attrs, "aws.request_id", "aws.requestId"); id != "" {
		a["request_id"] = id
	}
	if r := takeString(attrs, "aws.region"); r != "" {
		a["region"] = r
	}
	if q := takeString(attrs, "messaging.url", "aws.queue_url", "aws.queueUrl"); q != "" {
		a["queue_url"] = q
	}
	if t := takeString(attrs, "aws.table_name", "aws.tableName"); t != "" {
		a["table_name"] = t
	}
	if tables, ok := take(attrs, "aws.dynamodb.table_names").([]any); ok && len(tables) == 1 {
		a["table_name"] = tables[0]
	}
	if len(a) > 0 {
		doc["aws"] = a
	}
	if namespace != "" {
		doc["namespace"] = namespace
	}
	doc["name"] = name

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
	if keys, ok := attrs["aws.xray.annotations"].([]any); ok {
		delete(attrs, "aws.xray.annotations")
		for _, k := range keys {
			if s, ok := k.(string); ok {
				listed[s] = true
			}
		}
	}
	annotations, metadata := map[string]any{}, map[string]any{}
	for k, v := range attrs {
		if !listed[k] {
			metadata[k] = v
			continue
		}
		switch v.(type) {
		case string, bool, float64:
			annotations[sanitizeAnnotationKey(k)] = v
		}
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

// segmentNameOf picks a span's segment name and namespace by the
// mapping's order (see spanToSegment) from the span's attributes as sent.
func segmentNameOf(sp *tracepb.Span, attrs, resource map[string]any) (name, namespace string) {
	str := func(k string) string { s, _ := attrs[k].(string); return s }
	if rpc := str("rpc.system"); rpc == "aws-api" {
		namespace = "aws"
	}
	name = str("peer.service")
	if name == "" {
		if name = str("aws.service"); name != "" {
			namespace = "aws"
		}
	}
	if name == "" && sp.Kind == tracepb.Span_SPAN_KIND_SERVER {
		name, _ = resource["service.name"].(string)
	}
	for _, k := range []string{"rpc.service", "http.host", "net.peer.name"} {
		if name == "" {
			name = str(k)
		}
	}
	if name == "" {
		name = fixSegmentName(sp.Name)
	}
	if namespace == "" && sp.Kind == tracepb.Span_SPAN_KIND_CLIENT {
		namespace = "remote"
	}
	return name, namespace
}

// fixSegmentName makes a span name a valid segment name: characters X-Ray
// refuses are removed, it is cut at 200 characters, and a name left empty
// is "span".
func fixSegmentName(name string) string {
	out := []rune(strings.Map(func(r rune) rune {
		if validName(string(r)) {
			return r
		}
		return -1
	}, name))
	if len(out) > 200 {
		out = out[:200]
	}
	if len(out) == 0 {
		return "span"
	}
	return string(out)
}
