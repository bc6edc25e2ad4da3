package xray_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func num(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func strs(k string, vs ...string) *commonpb.KeyValue {
	var arr []*commonpb.AnyValue
	for _, v := range vs {
		arr = append(arr, &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}})
	}
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: arr}}}}
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// otelTrace is the trace ID of the job's spans, 32 hex digits, and the
// X-Ray form it is found by.
const (
	otelTrace = "6955b900a1b2c3d4e5f60718293a4b5c"
	xrayTrace = "1-6955b900-a1b2c3d4e5f60718293a4b5c"
)

// jobSpans is a job traced with OpenTelemetry: the BatchJob server span,
// a fetch span, an S3 PutObject call through the AWS SDK's instrumentation
// and an HTTP call that failed with 503.
func jobSpans() *coltracepb.ExportTraceServiceRequest {
	at := func(sec float64) uint64 { return uint64((float64(base) + sec) * 1e9) }
	span := func(id, parent, name string, kind tracepb.Span_SpanKind, from, to float64, attrs ...*commonpb.KeyValue) *tracepb.Span {
		s := &tracepb.Span{TraceId: unhex(otelTrace), SpanId: unhex(id), Name: name, Kind: kind,
			StartTimeUnixNano: at(from), EndTimeUnixNano: at(to), Attributes: attrs}
		if parent != "" {
			s.ParentSpanId = unhex(parent)
		}
		return s
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "BatchJob")}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{
			span("e000000000000001", "", "BatchJob attempt 1", tracepb.Span_SPAN_KIND_SERVER, 1, 4,
				str("job_id", "job-otel"), num("attempt", 1), strs("aws.xray.annotations", "job_id", "job.queue"), str("job.queue", "q"), str("note", "kept as metadata")),
			span("e000000000000002", "e000000000000001", "fetch", tracepb.Span_SPAN_KIND_INTERNAL, 1.1, 2),
			span("e000000000000003", "e000000000000001", "S3.PutObject", tracepb.Span_SPAN_KIND_CLIENT, 2.1, 2.5,
				str("rpc.system", "aws-api"), str("rpc.service", "S3"), str("rpc.method", "PutObject"), str("aws.s3.bucket", "out"),
				num("http.response.status_code", 200)),
			span("e000000000000004", "e000000000000002", "GET", tracepb.Span_SPAN_KIND_CLIENT, 1.2, 1.9,
				str("http.request.method", "GET"), str("url.full", "http://example.com/data"), str("http.host", "example.com"),
				num("http.response.status_code", 503)),
		}}},
	}}}
}

// postOTLP sends an export to url, SigV4-signed for xray when signed.
func postOTLP(t *testing.T, cfg aws.Config, url, contentType string, body []byte, gz, signed bool) (int, []byte) {
	t.Helper()
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = buf.Bytes()
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if signed {
		creds, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "xray", cfg.Region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func startOTLP(t *testing.T, opts localaws.Options) (*localaws.Server, aws.Config, *xray.Client) {
	t.Helper()
	opts.Clock = clockwork.NewFakeClockAt(time.Unix(base+3600, 0))
	srv, cfg := localawstest.Start(t, opts)
	return srv, cfg, xray.NewFromConfig(cfg)
}

type segmentFields struct {
	Name        string                    `json:"name"`
	ID          string                    `json:"id"`
	ParentID    string                    `json:"parent_id"`
	Namespace   string                    `json:"namespace"`
	Fault       bool                      `json:"fault"`
	Inferred    bool                      `json:"inferred"`
	Origin      string                    `json:"origin"`
	Annotations map[string]any            `json:"annotations"`
	Metadata    map[string]map[string]any `json:"metadata"`
	AWS         map[string]any            `json:"aws"`
	HTTP        map[string]map[string]any `json:"http"`
	Subsegments []segmentFields           `json:"subsegments"`
}

// checkJobTrace finds the job's trace by annotation and by ID and checks
// the mapped fields.
func checkJobTrace(t *testing.T, c *xray.Client) {
	t.Helper()
	sums := summaries(t, c, &xray.GetTraceSummariesInput{FilterExpression: aws.String(`annotation.job_id = "job-otel" AND annotation.job_queue = "q"`)})
	if got := ids(sums); !cmp.Equal(got, []string{xrayTrace}) {
		t.Fatalf("found by annotation: %v, want %s", got, xrayTrace)
	}
	if !aws.ToBool(sums[0].HasFault) {
		t.Error("the 503 call did not make the trace a fault")
	}
	var segs []segmentFields
	for _, d := range getTrace(t, c, xrayTrace) {
		var s segmentFields
		if err := json.Unmarshal([]byte(d), &s); err != nil {
			t.Fatal(err)
		}
		segs = append(segs, s)
	}
	want := []segmentFields{
		{Name: "BatchJob", ID: "e000000000000001",
			Annotations: map[string]any{"job_id": "job-otel", "job_queue": "q"},
			Metadata:    map[string]map[string]any{"default": {"attempt": 1.0, "note": "kept as metadata"}},
			Subsegments: []segmentFields{
				{Name: "fetch", ID: "e000000000000002", ParentID: "e000000000000001", Subsegments: []segmentFields{
					{Name: "example.com", ID: "e000000000000004", ParentID: "e000000000000002", Namespace: "remote", Fault: true,
						HTTP: map[string]map[string]any{"request": {"method": "GET", "url": "http://example.com/data"}, "response": {"status": 503.0}}},
				}},
				// The mapping names no S3 attribute: the bucket stays metadata,
				// with rpc.system and rpc.service, which it reads but keeps.
				{Name: "S3", ID: "e000000000000003", ParentID: "e000000000000001", Namespace: "aws",
					Metadata: map[string]map[string]any{"default": {"aws.s3.bucket": "out", "rpc.service": "S3", "rpc.system": "aws-api"}},
					AWS:      map[string]any{"operation": "PutObject"},
					HTTP:     map[string]map[string]any{"response": {"status": 200.0}}},
			}},
		{Name: "example.com", ParentID: "e000000000000004", Inferred: true, Fault: true,
			HTTP: map[string]map[string]any{"request": {"method": "GET", "url": "http://example.com/data"}, "response": {"status": 503.0}}},
		{Name: "S3", ParentID: "e000000000000003", Inferred: true, Origin: "AWS::S3::Bucket",
			AWS:  map[string]any{"operation": "PutObject"},
			HTTP: map[string]map[string]any{"response": {"status": 200.0}}},
	}
	for i := range segs {
		if segs[i].Inferred {
			segs[i].ID = "" // X-Ray's own
		}
	}
	if diff := cmp.Diff(want, segs); diff != "" {
		t.Errorf("segments from the OTLP spans (-want +got):\n%s", diff)
	}
}

func TestOTLPOnTheAWSEndpoint(t *testing.T) {
	srv, cfg, c := startOTLP(t, localaws.Options{XRay: xraysvc.Config{IndexingPercentage: 100}})
	body, err := proto.Marshal(jobSpans())
	if err != nil {
		t.Fatal(err)
	}
	url := srv.Endpoint() + "/v1/traces"

	// Without Transaction Search X-Ray refuses OTLP.
	if code, b := postOTLP(t, cfg, url, "application/x-protobuf", body, false, true); code != http.StatusBadRequest {
		t.Fatalf("OTLP in X-Ray mode: %d %q, want 400", code, b)
	}
	if _, err := c.UpdateTraceSegmentDestination(context.Background(), &xray.UpdateTraceSegmentDestinationInput{Destination: types.TraceSegmentDestinationCloudWatchLogs}); err != nil {
		t.Fatal(err)
	}
	code, b := postOTLP(t, cfg, url, "application/x-protobuf", body, true, true)
	var resp coltracepb.ExportTraceServiceResponse
	if code != http.StatusOK || proto.Unmarshal(b, &resp) != nil || resp.PartialSuccess != nil {
		t.Fatalf("OTLP export: %d %q, want 200 and every span accepted", code, b)
	}
	checkJobTrace(t, c)
}

func TestOTLPOnTheHostAgent(t *testing.T) {
	srv, cfg, c := startOTLP(t, localaws.Options{})
	addr, err := srv.StartOTLP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// OTLP/JSON, as an exporter writes it: IDs in hex, enums as numbers.
	var spans []string
	for _, sp := range jobSpans().ResourceSpans[0].ScopeSpans[0].Spans {
		var attrs []string
		for _, kv := range sp.Attributes {
			var v string
			switch x := kv.Value.Value.(type) {
			case *commonpb.AnyValue_StringValue:
				v = fmt.Sprintf(`{"stringValue":%q}`, x.StringValue)
			case *commonpb.AnyValue_IntValue:
				v = fmt.Sprintf(`{"intValue":"%d"}`, x.IntValue)
			case *commonpb.AnyValue_ArrayValue:
				var vs []string
				for _, e := range x.ArrayValue.Values {
					vs = append(vs, fmt.Sprintf(`{"stringValue":%q}`, e.GetStringValue()))
				}
				v = `{"arrayValue":{"values":[` + strings.Join(vs, ",") + `]}}`
			}
			attrs = append(attrs, fmt.Sprintf(`{"key":%q,"value":%s}`, kv.Key, v))
		}
		parent := ""
		if len(sp.ParentSpanId) > 0 {
			parent = fmt.Sprintf(`"parentSpanId":"%x",`, sp.ParentSpanId)
		}
		spans = append(spans, fmt.Sprintf(`{"traceId":"%x","spanId":"%x",%s"name":%q,"kind":%d,"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[%s]}`,
			sp.TraceId, sp.SpanId, parent, sp.Name, sp.Kind, sp.StartTimeUnixNano, sp.EndTimeUnixNano, strings.Join(attrs, ",")))
	}
	body := `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"BatchJob"}}]},"scopeSpans":[{"spans":[` +
		strings.Join(spans, ",") + `]}]}]}`
	// The agent takes OTLP in X-Ray mode: it sends segments on.
	code, b := postOTLP(t, cfg, "http://"+addr+"/v1/traces", "application/json", []byte(body), false, false)
	if code != http.StatusOK || strings.TrimSpace(string(b)) != "{}" {
		t.Fatalf("OTLP/JSON to the agent: %d %q, want 200 {}", code, b)
	}
	checkJobTrace(t, c)
	if code, _ := postOTLP(t, cfg, "http://"+addr+"/v1/traces", "text/plain", []byte(body), false, false); code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d, want 415", code)
	}
}

func TestOTLPLimits(t *testing.T) {
	srv, cfg, _ := startOTLP(t, localaws.Options{XRay: xraysvc.Config{Destination: "CloudWatchLogs", IndexingPercentage: 100}})
	url := srv.Endpoint() + "/v1/traces"
	now := uint64(time.Unix(base+3600, 0).UnixNano())
	span := func(i int, start, end uint64, attrs ...*commonpb.KeyValue) *tracepb.Span {
		return &tracepb.Span{TraceId: unhex(otelTrace), SpanId: unhex(fmt.Sprintf("%016x", i+1)), Name: "s",
			Kind: tracepb.Span_SPAN_KIND_SERVER, StartTimeUnixNano: start, EndTimeUnixNano: end, Attributes: attrs}
	}
	export := func(spans ...*tracepb.Span) []byte {
		b, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: spans}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("10,000 spans a request", func(t *testing.T) {
		var spans []*tracepb.Span
		for i := range 10001 {
			spans = append(spans, span(i, now, now+1))
		}
		if code, _ := postOTLP(t, cfg, url, "application/x-protobuf", export(spans...), true, true); code != http.StatusBadRequest {
			t.Errorf("10,001 spans: %d, want 400", code)
		}
	})
	t.Run("5 MB a request", func(t *testing.T) {
		var spans []*tracepb.Span
		for i := range 30 {
			spans = append(spans, span(i, now, now+1, str("blob", strings.Repeat("x", 190<<10))))
		}
		if code, _ := postOTLP(t, cfg, url, "application/x-protobuf", export(spans...), true, true); code != http.StatusBadRequest {
			t.Errorf("a 5.6 MB request: %d, want 400", code)
		}
	})
	t.Run("spans too large, too old, too far ahead", func(t *testing.T) {
		day := uint64(24 * time.Hour)
		body := export(
			span(1, now, now+1),
			span(2, now, now+1, str("blob", strings.Repeat("x", 201<<10))),
			span(3, now-15*day, now-15*day+1),
			span(4, now, now+3*uint64(time.Hour)),
			span(5, now-13*day, now-13*day+1),
		)
		code, b := postOTLP(t, cfg, url, "application/x-protobuf", body, false, true)
		var resp coltracepb.ExportTraceServiceResponse
		if err := proto.Unmarshal(b, &resp); code != http.StatusOK || err != nil {
			t.Fatalf("%d %q %v", code, b, err)
		}
		if n := resp.GetPartialSuccess().GetRejectedSpans(); n != 3 || resp.GetPartialSuccess().GetErrorMessage() == "" {
			t.Errorf("partial success = %v, want 3 spans rejected with a message", resp.GetPartialSuccess())
		}
		if got := srv.XRay().Ingested(); got != 2 {
			t.Errorf("%d segments stored, want the 2 within the limits", got)
		}
	})
}
