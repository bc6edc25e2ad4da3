package jobrunner

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/batchxray/batchxray/internal/traceid"
)

// otlpReceiver is an OTLP/HTTP traces endpoint, protobuf encoded, as the
// CloudWatch agent and X-Ray serve it. It keeps every span it decoded and
// the headers of every request, and answers status (200 when zero).
type otlpReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	service string
	headers []http.Header
	status  int
}

func startOTLP(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
			http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
			return
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		status := r.status
		if status == 0 {
			for _, rs := range msg.ResourceSpans {
				for _, a := range rs.GetResource().GetAttributes() {
					if a.Key == "service.name" {
						r.service = a.Value.GetStringValue()
					}
				}
				for _, ss := range rs.ScopeSpans {
					r.spans = append(r.spans, ss.Spans...)
				}
			}
		}
		r.mu.Unlock()
		if status != 0 {
			http.Error(w, "refused", status)
			return
		}
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) named(name string) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func (r *otlpReceiver) children(parent *tracepb.Span) []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*tracepb.Span
	for _, s := range r.spans {
		if string(s.ParentSpanId) == string(parent.SpanId) {
			out = append(out, s)
		}
	}
	return out
}

func attr(s *tracepb.Span, key string) *commonpb.AnyValue {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return nil
}

func annotationKeys(s *tracepb.Span) []string {
	var keys []string
	for _, v := range attr(s, annotationsKey).GetArrayValue().GetValues() {
		keys = append(keys, v.GetStringValue())
	}
	slices.Sort(keys)
	return keys
}

func xrayTraceID(id []byte) string {
	h := hex.EncodeToString(id)
	return "1-" + h[:8] + "-" + h[8:]
}

func otelOptions(d *fakeDaemon, r *otlpReceiver, env ...string) Options {
	o := baseOptions(d, append([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=" + r.srv.URL}, env...)...)
	o.Tracer = TracerOTel
	return o
}

// The sample work traced with OpenTelemetry: the same spans as with the
// X-Ray SDK, the annotations listed so X-Ray indexes them, the HTTP and S3
// calls traced by the contrib instrumentation, everything flushed by the
// time Run returns.
func TestOTelSampleWork(t *testing.T) {
	d := startDaemon(t)
	rcv := startOTLP(t)
	origin, _ := startOrigin(t)
	s3 := httptest.NewServer(&fakeS3{})
	t.Cleanup(s3.Close)
	o := otelOptions(d, rcv, batchEnv...)
	o.JobName = "nightly"
	o.URLs = []string{origin.URL + "/ok/page?X-Amz-Signature=secret"}
	o.Bucket = "stack-bucket"
	o.AWSConfig = s3Config(t, s3.URL)
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, o.Stderr)
	}
	roots := rcv.named("BatchJob")
	if len(roots) != 1 {
		t.Fatalf("%d BatchJob spans, want 1", len(roots))
	}
	root := roots[0]
	if len(root.ParentSpanId) != 0 || root.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("root parent %x kind %v, want no parent and a server span (an X-Ray segment)", root.ParentSpanId, root.Kind)
	}
	if rcv.service != "BatchJob" {
		t.Errorf("service.name %q, want BatchJob", rcv.service)
	}
	want := []string{"attempt", "compute_environment", "job_id", "job_name", "job_queue"}
	if got := annotationKeys(root); !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", annotationsKey, got, want)
	}
	if got := attr(root, "job_id").GetStringValue(); got != "job-1" {
		t.Errorf("job_id = %q, want job-1", got)
	}
	if got := attr(root, "attempt").GetIntValue(); got != 2 {
		t.Errorf("attempt = %d, want 2", got)
	}
	tid := xrayTraceID(root.TraceId)
	if !traceid.Valid(tid) || !strings.Contains(o.Stderr.(*syncBuffer).String(), "trace "+tid+" for job job-1, sent to OTLP "+rcv.srv.URL+"/v1/traces") {
		t.Errorf("trace ID %s, stderr:\n%s\nwant an X-Ray trace ID, named on stderr", tid, o.Stderr)
	}
	var names []string
	for _, c := range rcv.children(root) {
		names = append(names, c.Name)
		if c.Status.GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("%s has status error", c.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"fetch", "upload"}) {
		t.Fatalf("root's children %v, want fetch and upload", names)
	}
	fetch, upload := rcv.named("fetch")[0], rcv.named("upload")[0]
	if kids := rcv.children(fetch); len(kids) != 1 || kids[0].Kind != tracepb.Span_SPAN_KIND_CLIENT || attr(kids[0], "http.response.status_code").GetIntValue() != 200 {
		t.Errorf("fetch's children %v, want otelhttp's client span with status 200", kids)
	} else {
		// What the mapping names the call by, and the URL as the X-Ray SDK
		// records it.
		get := kids[0]
		if h, u := attr(get, "http.host").GetStringValue(), attr(get, "url.full").GetStringValue(); h != hostOf(t, origin.URL) || u != origin.URL+"/ok/page" {
			t.Errorf("http.host %q url.full %q, want %q and the URL", h, u, hostOf(t, origin.URL))
		}
		var phases []string
		for _, c := range rcv.children(get) {
			phases = append(phases, c.Name)
		}
		slices.Sort(phases)
		if !slices.Equal(phases, []string{"connect", "request", "response"}) {
			t.Errorf("the call's children %v, want connect, request and response as xray.Client makes them", phases)
		}
	}
	kids := rcv.children(upload)
	if len(kids) != 1 || kids[0].Name != "S3.PutObject" || kids[0].Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Fatalf("upload's children %v, want the S3.PutObject client span", kids)
	}
	for k, want := range map[string]string{"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "PutObject", "aws.region": "us-east-1", "aws.s3.bucket": "stack-bucket"} {
		if got := attr(kids[0], k).GetStringValue(); got != want {
			t.Errorf("S3.PutObject's %s = %q, want %q", k, got, want)
		}
	}
	if got := attr(kids[0], "http.response.status_code").GetIntValue(); got != 200 {
		t.Errorf("S3.PutObject's status %d, want 200", got)
	}
	if got := attr(upload, "batchxray.bucket").GetStringValue(); got != "stack-bucket" {
		t.Errorf("upload's batchxray.bucket = %q", got)
	}
	// The root counts every span exported under it, otelhttp's and the
	// connection's phases included, as the X-Ray SDK's segment counts its
	// subsegments.
	var below func(*tracepb.Span) int
	below = func(s *tracepb.Span) int {
		n := 0
		for _, c := range rcv.children(s) {
			n += 1 + below(c)
		}
		return n
	}
	count := attr(root, metadataNamespace+"."+subsegmentsKey)
	if want := below(root); count.GetIntValue() != int64(want) || want < 8 {
		t.Errorf("root's %s.%s = %v, want the %d spans exported under it (at least 8)", metadataNamespace, subsegmentsKey, count, want)
	}
}

// Errors and faults map as X-Ray's OpenTelemetry conversion reads them: a
// 4xx is an error span carrying the status, anything else an error span
// without one (a fault).
func TestOTelErrorsAndFaults(t *testing.T) {
	d := startDaemon(t)
	rcv := startOTLP(t)
	origin, _ := startOrigin(t)
	o := otelOptions(d, rcv, batchEnv...)
	o.URLs = []string{origin.URL + "/status/404"}
	o.NoUpload = true
	if err := Run(context.Background(), o); exitCode(err) != 1 {
		t.Fatalf("err = %v, want a failure", err)
	}
	f := rcv.named("fetch")[0]
	if f.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || attr(f, "http.response.status_code").GetIntValue() != 404 {
		t.Errorf("fetch status %v code %v, want an error with 404", f.Status, attr(f, "http.response.status_code"))
	}
	if len(f.Events) == 0 || f.Events[0].Name != "exception" {
		t.Errorf("fetch events %v, want the exception", f.Events)
	}
	root := rcv.named("BatchJob")[0]
	if root.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("root status %v, want an error", root.Status)
	}
}

// SIGTERM ends the wrapped command, and the spans are flushed before Run
// returns; the command got the header of its own span.
func TestOTelWrapSIGTERMAndHeader(t *testing.T) {
	d := startDaemon(t)
	rcv := startOTLP(t)
	sigs := make(chan os.Signal, 1)
	o := otelOptions(d, rcv, append(batchEnv, traceHeaderEnv+"="+submitHeader)...)
	o.Command = []string{"sh", "-c", `echo "$_X_AMZN_TRACE_ID"; echo ready; exec sleep 30`}
	o.Signals = sigs
	out := o.Stdout.(*syncBuffer)
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), o) }()
	<-out.ready
	sigs <- syscall.SIGTERM
	if err := <-done; exitCode(err) != 143 {
		t.Fatalf("err = %v, want exit 143", err)
	}
	root := rcv.named("BatchJob")
	sh := rcv.named("sh")
	if len(root) != 1 || len(sh) != 1 {
		t.Fatalf("%d BatchJob and %d sh spans flushed, want 1 each", len(root), len(sh))
	}
	if got := xrayTraceID(root[0].TraceId); got != submitTrace || hex.EncodeToString(root[0].ParentSpanId) != submitParent {
		t.Errorf("root in trace %s under %x, want the header's %s under %s", got, root[0].ParentSpanId, submitTrace, submitParent)
	}
	if root[0].Status.GetMessage() != "terminated" || sh[0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("root status %v, sh status %v; want both errors, terminated", root[0].Status, sh[0].Status)
	}
	if n := attr(root[0], metadataNamespace+"."+subsegmentsKey); n.GetIntValue() != 1 {
		t.Errorf("root's %s.%s = %v, want 1 (the command's span), also when terminated", metadataNamespace, subsegmentsKey, n)
	}
	wantHeader := "Root=" + submitTrace + ";Parent=" + hex.EncodeToString(sh[0].SpanId) + ";Sampled=1\n"
	if got := strings.TrimSuffix(out.String(), "ready\n"); got != wantHeader {
		t.Errorf("the command got %q, want %q", got, wantHeader)
	}
}

// A tracer name or endpoint the job cannot use is one line, and the job
// still runs.
func TestOTelBadSettingsRunUntraced(t *testing.T) {
	tests := []struct {
		name     string
		tracer   string
		env      string
		endpoint string
		want     string
	}{
		{name: "unknown tracer", tracer: "jaeger", want: `warning: unknown tracer "jaeger" (want xray or otel); the job runs untraced`},
		{name: "endpoint without a scheme", tracer: TracerOTel, env: "OTEL_EXPORTER_OTLP_ENDPOINT=127.0.0.1:4318", want: `warning: invalid OTEL_EXPORTER_OTLP_ENDPOINT "127.0.0.1:4318/v1/traces"`},
		{name: "flag endpoint not a URL", tracer: TracerOTel, endpoint: "xray.us-east-1.amazonaws.com/v1/traces", want: `warning: invalid --otlp-endpoint "xray.us-east-1.amazonaws.com/v1/traces": want an http:// or https:// URL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t)
			o := baseOptions(d, batchEnv...)
			if tc.env != "" {
				o.Environ = append(o.Environ, tc.env)
			}
			o.Tracer, o.OTLPEndpoint = tc.tracer, tc.endpoint
			o.Command = []string{"sh", "-c", "echo ran"}
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			if got := o.Stdout.(*syncBuffer).String(); got != "ran\n" {
				t.Errorf("stdout %q, want the command to have run", got)
			}
			stderr := o.Stderr.(*syncBuffer).String()
			var warnings int
			for line := range strings.Lines(stderr) {
				if strings.Contains(line, "warning") {
					warnings++
					if !strings.Contains(line, tc.want) {
						t.Errorf("warning %q, want %q", line, tc.want)
					}
				}
			}
			if warnings != 1 {
				t.Errorf("%d warnings, want one line:\n%s", warnings, stderr)
			}
		})
	}
}

// --otlp-endpoint signs for X-Ray with the job's credentials, and a 400
// (Transaction Search off) is explained in one line.
func TestOTelSignedEndpoint(t *testing.T) {
	for _, status := range []int{0, http.StatusBadRequest} {
		d := startDaemon(t)
		rcv := startOTLP(t)
		rcv.status = status
		o := baseOptions(d, batchEnv...)
		o.Tracer, o.OTLPEndpoint = TracerOTel, rcv.srv.URL+"/v1/traces"
		o.AWSConfig = s3Config(t, "http://127.0.0.1:1")
		o.Command = []string{"true"}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		rcv.mu.Lock()
		headers := rcv.headers
		rcv.mu.Unlock()
		if len(headers) == 0 {
			t.Fatalf("status %d: nothing was sent", status)
		}
		auth := headers[0].Get("Authorization")
		if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/us-east-1/xray/aws4_request") || headers[0].Get("X-Amz-Date") == "" {
			t.Errorf("status %d: Authorization %q, want SigV4 for xray in us-east-1", status, auth)
		}
		stderr := o.Stderr.(*syncBuffer).String()
		if says := strings.Contains(stderr, "it takes spans only once CloudWatch Transaction Search is on"); says != (status == http.StatusBadRequest) {
			t.Errorf("status %d: stderr mentions Transaction Search = %v:\n%s", status, says, stderr)
		}
	}
}
