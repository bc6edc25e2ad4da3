package jobrunner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
)

var (
	_ tracer = (*otelTracer)(nil)
	_ span   = (*otelSpan)(nil)
)

// annotationsKey lists the span attributes X-Ray indexes as annotations;
// every other attribute becomes metadata.
const annotationsKey = "aws.xray.annotations"

// flushTimeout bounds the final export: Batch kills the container 30 s
// after its SIGTERM, and the wrapped command may have used 10 of them.
const flushTimeout = 10 * time.Second

// otelTracer is the tracer on the OpenTelemetry SDK: spans with X-Ray's IDs,
// exported over OTLP/HTTP to the host's CloudWatch agent or straight to
// X-Ray's OTLP endpoint. Every piece is its own, not the SDK's globals, so
// two jobs in one test process do not share an exporter.
type otelTracer struct {
	tp   *sdktrace.TracerProvider
	tr   oteltrace.Tracer
	prop xray.Propagator
	// status remembers what the endpoint last answered, to explain a
	// failed export.
	status *statusRecorder
	// xrayEndpoint is set when spans go straight to X-Ray, whose 400 means
	// Transaction Search is off.
	xrayEndpoint bool
	endpoint     string
	warn         func(format string, a ...any)
	// ended counts the spans the root's document tree will hold.
	ended *endedSpans
}

// newOTelTracer exports to endpoint, a full OTLP/HTTP traces URL, through
// transport (nil for the default), sampling a new trace at rate and
// following a parent's decision.
func newOTelTracer(endpoint string, transport http.RoundTripper, xrayEndpoint bool, rate float64, serviceName, serviceVersion string, warn func(string, ...any)) (*otelTracer, error) {
	setOTelErrorHandler()
	if transport == nil {
		transport = http.DefaultTransport
	}
	rec := &statusRecorder{base: transport}
	exp, err := otlptracehttp.New(context.Background(),
		otlptracehttp.WithEndpointURL(endpoint),
		otlptracehttp.WithHTTPClient(&http.Client{Transport: rec}),
		// The job's own flush deadline applies; the exporter's retries
		// would outlast it.
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
	)
	if err != nil {
		return nil, fmt.Errorf("build the OTLP exporter for %s: %w", endpoint, err)
	}
	var sampler sdktrace.Sampler
	switch {
	case rate >= 1:
		sampler = sdktrace.AlwaysSample()
	case rate <= 0:
		sampler = sdktrace.NeverSample()
	default:
		sampler = sdktrace.TraceIDRatioBased(rate)
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", serviceName),
		attribute.String("service.version", serviceVersion),
		attribute.String("telemetry.sdk.name", "opentelemetry"),
		attribute.String("telemetry.sdk.language", "go"),
	)
	ended := &endedSpans{}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(ended),
		// Batched, so a finished step leaves while the job runs on and the
		// job never waits for the network between steps.
		sdktrace.WithBatcher(exp),
		sdktrace.WithIDGenerator(xray.NewIDGenerator()),
		sdktrace.WithSampler(sdktrace.ParentBased(sampler)),
		sdktrace.WithResource(res),
	)
	return &otelTracer{
		tp: tp, tr: tp.Tracer("github.com/batchxray/batchxray/internal/jobrunner"),
		status: rec, xrayEndpoint: xrayEndpoint, endpoint: endpoint, warn: warn, ended: ended,
	}, nil
}

var setOTelErrorHandlerOnce sync.Once

// setOTelErrorHandler silences the SDK's background errors (a batch that
// could not be exported), which its default handler logs without a word of
// context: the job reports a failed export itself, once, from what its
// transport saw. The handler is process-wide, hence once.
func setOTelErrorHandler() {
	setOTelErrorHandlerOnce.Do(func() {
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
	})
}

func (t *otelTracer) Begin(ctx context.Context, name string, parent *traceHeader) (context.Context, span) {
	if parent != nil {
		h := "Root=" + parent.TraceID + ";Parent=" + parent.ParentID
		if parent.Sampled != "" {
			h += ";Sampled=" + parent.Sampled
		}
		ctx = t.prop.Extract(ctx, propagation.MapCarrier{"X-Amzn-Trace-Id": h})
	}
	// Server: X-Ray makes a server span a segment, and the job is what
	// Batch asked for.
	ctx, sp := t.tr.Start(ctx, name, oteltrace.WithSpanKind(oteltrace.SpanKindServer))
	return ctx, &otelSpan{t: t, sp: sp, root: true}
}

func (t *otelTracer) BeginChild(ctx context.Context, name string) (context.Context, span) {
	ctx, sp := t.tr.Start(ctx, name)
	return ctx, &otelSpan{t: t, sp: sp}
}

func (t *otelTracer) HTTPClient(base *http.Client) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = otelhttp.NewTransport(httpDetails{base: rt, tr: t.tr},
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.prop),
	)
	return &c
}

func (t *otelTracer) InstrumentAWS(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, awsCallSpans{tr: t.tr, prop: t.prop}.add)
}

// flush exports whatever is left and stops the exporter. A failure is one
// line: the job's own outcome does not change because its trace was lost.
func (t *otelTracer) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	err := t.tp.Shutdown(ctx)
	code, sendErr := t.status.last()
	switch {
	case t.xrayEndpoint && code == http.StatusBadRequest:
		t.warn("warning: X-Ray's OTLP endpoint %s answered 400: it takes spans only once CloudWatch Transaction Search is on (aws xray update-trace-segment-destination --destination CloudWatchLogs); this trace is lost", t.endpoint)
	case sendErr != nil:
		t.warn("warning: the trace could not be sent to %s: %v", t.endpoint, sendErr)
	case code != 0 && (code < 200 || code > 299):
		t.warn("warning: the trace could not be sent: %s answered %d %s", t.endpoint, code, http.StatusText(code))
	case err != nil:
		t.warn("warning: the trace could not be sent to %s: %v", t.endpoint, err)
	}
}

// otelSpan is one span. Annotations are kept as attributes and listed under
// aws.xray.annotations when the span ends.
type otelSpan struct {
	t           *otelTracer
	sp          oteltrace.Span
	root        bool
	annotations []string
}

func (s *otelSpan) TraceID() string {
	id := s.sp.SpanContext().TraceID()
	if !id.IsValid() {
		return ""
	}
	h := id.String()
	return "1-" + h[:8] + "-" + h[8:]
}

func (s *otelSpan) Sampled() bool { return s.sp.SpanContext().IsSampled() }

func (s *otelSpan) Header() string {
	if !s.sp.SpanContext().IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	s.t.prop.Inject(oteltrace.ContextWithSpan(context.Background(), s.sp), c)
	return c.Get("X-Amzn-Trace-Id")
}

func (s *otelSpan) Annotate(key string, value any) {
	if !s.sp.IsRecording() {
		return
	}
	s.sp.SetAttributes(attributeOf(key, value))
	s.annotations = append(s.annotations, key)
}

func (s *otelSpan) Metadata(key string, value any) {
	if s.sp.IsRecording() {
		s.sp.SetAttributes(attributeOf(metadataNamespace+"."+key, value))
	}
}

// SendInProgress does nothing: OTLP carries finished spans only.
func (s *otelSpan) SendInProgress() {}

func (s *otelSpan) End(err error) {
	if s.root {
		// The X-Ray SDK's count (see subsegmentsKey), so that a reader
		// knows when X-Ray holds the whole trace. Set like any metadata:
		// an attribute not listed in aws.xray.annotations, which AWS's
		// mapping (the CloudWatch agent's and the ADOT collector's awsxray
		// exporter, X-Ray's OTLP endpoint) keeps in the segment's default
		// metadata namespace under its full key, batchxray.subsegments.
		s.Metadata(subsegmentsKey, s.t.ended.under(s.sp.SpanContext()))
	}
	if len(s.annotations) > 0 {
		s.sp.SetAttributes(attribute.StringSlice(annotationsKey, s.annotations))
	}
	switch classify(err) {
	case outcomeOK:
	case outcomeError:
		// X-Ray's mapping makes an error span with a 4xx status an error,
		// any other error span a fault.
		var st interface{ HTTPStatusCode() int }
		errors.As(err, &st)
		s.sp.SetAttributes(attribute.Int("http.response.status_code", st.HTTPStatusCode()))
		s.sp.RecordError(err)
		s.sp.SetStatus(codes.Error, err.Error())
	case outcomeFault:
		s.sp.RecordError(err)
		s.sp.SetStatus(codes.Error, err.Error())
	}
	s.sp.End()
	if s.root {
		s.t.flush()
	}
}

// endedSpans counts, per trace, the sampled spans that ended under a parent
// of this process: every span the job exports but its root, whose parent
// (submit's segment) is remote or absent. They are the root's children and
// theirs, otelhttp's and the connection's phases included, each of which
// the mapping makes a subsegment of the root's tree. A span ends before
// its parent does, so when the root ends they are all counted.
type endedSpans struct {
	mu sync.Mutex
	n  map[oteltrace.TraceID]int
}

var _ sdktrace.SpanProcessor = (*endedSpans)(nil)

func (e *endedSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (e *endedSpans) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() || !s.Parent().IsValid() || s.Parent().IsRemote() {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[oteltrace.TraceID]int{}
	}
	e.n[s.SpanContext().TraceID()]++
}

func (e *endedSpans) Shutdown(context.Context) error   { return nil }
func (e *endedSpans) ForceFlush(context.Context) error { return nil }

// under is the count of root's trace so far.
func (e *endedSpans) under(root oteltrace.SpanContext) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[root.TraceID()]
}

// attributeOf turns a value into an attribute: strings, numbers and bools
// as themselves, anything else as its JSON.
func attributeOf(key string, value any) attribute.KeyValue {
	switch v := value.(type) {
	case string:
		return attribute.String(key, v)
	case int:
		return attribute.Int(key, v)
	case int64:
		return attribute.Int64(key, v)
	case float64:
		return attribute.Float64(key, v)
	case bool:
		return attribute.Bool(key, v)
	case []string:
		return attribute.StringSlice(key, v)
	}
	b, err := json.Marshal(value)
	if err != nil {
		return attribute.String(key, fmt.Sprint(value))
	}
	return attribute.String(key, string(b))
}

// statusRecorder remembers how the last request to the endpoint went.
type statusRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	code int
	err  error
}

func (r *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	r.mu.Lock()
	r.code, r.err = 0, err
	if err == nil {
		r.code = resp.StatusCode
	}
	r.mu.Unlock()
	return resp, err
}

// last is the last response's status, or the error that stopped it.
func (r *statusRecorder) last() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code, r.err
}
