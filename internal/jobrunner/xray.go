package jobrunner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	xrayheader "github.com/aws/aws-xray-sdk-go/v2/header"
	"github.com/aws/aws-xray-sdk-go/v2/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/aws/aws-xray-sdk-go/v2/xraylog"
	"github.com/aws/smithy-go/middleware"

	"github.com/batchxray/batchxray/internal/jobrunner/daemonenv"
)

// The SDK's package reads AWS_XRAY_DAEMON_ADDRESS while it initialises;
// daemonenv hid it from that, and this package initialises after the SDK's.
func init() { daemonenv.Restore() }

var (
	_ tracer = (*xrayTracer)(nil)
	_ span   = (*xraySpan)(nil)
)

// metadataNamespace keeps our metadata apart from the SDK's own.
const metadataNamespace = "batchxray"

// subsegmentsKey is the metadata key (in metadataNamespace) on the complete
// segment that counts every subsegment of its tree: those sent before it as
// documents of their own (with the ones embedded in them) and those it
// embeds. Once streamed, a subsegment is neither embedded in nor listed by
// its segment, so this count is how a reader knows it has them all.
const subsegmentsKey = "subsegments"

// streamedCounter is the context key of the root's count of subsegments
// streamed so far, shared with every subsegment begun under it.
type streamedCounter struct{}

// xrayTracer is the tracer on the X-Ray SDK for Go. Its configuration rides
// in the context (xray.ContextWithConfig), never in the SDK's globals, so
// nothing outside the job is affected and two jobs in one test process do
// not share a daemon address.
type xrayTracer struct {
	cfg xray.Config
}

// newXRayTracer sends to the daemon at udp and samples at rate. A rate of 1
// forces sampling (the SDK's default is the first request a second, then 5%,
// and a fresh process decides before centralized rules arrive); below 1 the
// fixed target is 0, since a job's one segment would otherwise always fall
// in the first-a-second reservoir and the rate would mean nothing.
func newXRayTracer(udp *net.UDPAddr, rate float64, serviceVersion string) (*xrayTracer, error) {
	setSDKLogger()
	target := 0
	if rate >= 1 {
		rate, target = 1, 1
	}
	manifest := fmt.Sprintf(`{"version": 2, "default": {"fixed_target": %d, "rate": %g}, "rules": []}`, target, rate)
	ss, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(manifest))
	if err != nil {
		return nil, fmt.Errorf("build the sampling strategy: %w", err)
	}
	em, err := xray.NewDefaultEmitter(udp)
	if err != nil {
		return nil, fmt.Errorf("build the X-Ray emitter: %w", err)
	}
	return &xrayTracer{cfg: xray.Config{
		SamplingStrategy: ss,
		Emitter:          pinnedEmitter{em},
		ServiceVersion:   serviceVersion,
	}}, nil
}

// pinnedEmitter keeps the address it was built with: the SDK re-reads
// AWS_XRAY_DAEMON_ADDRESS from the process environment when a configuration
// is applied and would point the emitter there, but the job has already
// validated and resolved the address it means to use.
type pinnedEmitter struct{ *xray.DefaultEmitter }

func (pinnedEmitter) RefreshEmitterWithAddress(*net.UDPAddr) {}

var setSDKLoggerOnce sync.Once

// setSDKLogger sends the SDK's warnings to stderr: its default logger writes
// to stdout, which in wrap mode belongs to the user's command. SetLogger is
// not safe to call concurrently, hence once.
func setSDKLogger() {
	setSDKLoggerOnce.Do(func() { xray.SetLogger(sdkLogger{}) })
}

type sdkLogger struct{}

func (sdkLogger) Log(level xraylog.LogLevel, msg fmt.Stringer) {
	if level >= xraylog.LogLevelWarn {
		fmt.Fprintf(os.Stderr, "batchxray: x-ray sdk: %s: %s\n", level, msg)
	}
}

func (t *xrayTracer) Begin(ctx context.Context, name string, parent *traceHeader) (context.Context, span) {
	if xray.SdkDisabled() {
		return ctx, &xraySpan{}
	}
	// The SDK watches the segment's context and, when it is done, sends the
	// segment from a goroutine of its own. Only End may end this context, so
	// the one send is End's, made before it returns.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ctx, err := xray.ContextWithConfig(ctx, t.cfg)
	if err != nil {
		// Only a malformed AWS_XRAY_DAEMON_ADDRESS gets here, and that was
		// validated before: say so rather than lose it.
		fmt.Fprintf(os.Stderr, "batchxray: x-ray sdk: %v\n", err)
	}
	streamed := new(atomic.Int64)
	ctx = context.WithValue(ctx, streamedCounter{}, streamed)
	var seg *xray.Segment
	if parent == nil {
		ctx, seg = xray.BeginSegment(ctx, name)
		return ctx, &xraySpan{seg: seg, root: true, cancel: cancel, streamed: streamed}
	}
	h := &xrayheader.Header{TraceID: parent.TraceID, ParentID: parent.ParentID}
	switch parent.Sampled {
	case "1":
		h.SamplingDecision = xrayheader.Sampled
	case "0":
		h.SamplingDecision = xrayheader.NotSampled
	}
	if h.SamplingDecision == xrayheader.Unknown {
		// The header leaves sampling to us: our strategy decides.
		ctx, seg = xray.BeginSegment(ctx, name)
	} else {
		// The SDK takes the header's decision only alongside a request,
		// which it reads only when the header has no decision; the job has
		// none, so an empty one stands in.
		ctx, seg = xray.BeginSegmentWithSampling(ctx, name, &http.Request{URL: &url.URL{}}, h)
	}
	// The SDK gave the segment IDs of its own; the job's segment is a
	// segment of the header's trace, under the header's parent (what
	// xray.NewSegmentFromHeader does, but under the segment's lock).
	seg.Lock()
	seg.TraceID = h.TraceID
	seg.ParentID = h.ParentID
	seg.Unlock()
	return ctx, &xraySpan{seg: seg, root: true, cancel: cancel, streamed: streamed}
}

func (t *xrayTracer) BeginChild(ctx context.Context, name string) (context.Context, span) {
	ctx, seg := xray.BeginSubsegment(ctx, name)
	streamed, _ := ctx.Value(streamedCounter{}).(*atomic.Int64)
	return ctx, &xraySpan{seg: seg, streamed: streamed}
}

func (t *xrayTracer) HTTPClient(base *http.Client) *http.Client { return xray.Client(base) }

func (t *xrayTracer) InstrumentAWS(cfg *aws.Config) {
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	cfg.APIOptions = append(cfg.APIOptions, recordS3Bucket)
}

// recordS3Bucket adds the bucket to the S3 subsegment, as the X-Ray SDKs for
// other languages do; the awsv2 instrumentor records only the operation,
// region and request ID. Added after the instrumentor's own middleware, it
// runs inside it and finds the S3 subsegment in the context.
func recordS3Bucket(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("BatchxrayRecordS3Bucket", func(
		ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
	) (middleware.InitializeOutput, middleware.Metadata, error) {
		if p, ok := in.Parameters.(*s3.PutObjectInput); ok && p.Bucket != nil {
			if seg := xray.GetSegment(ctx); seg != nil {
				seg.Lock()
				seg.GetAWS()["bucket_name"] = *p.Bucket
				seg.Unlock()
			}
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// xraySpan is a segment (root) or subsegment. A zero xraySpan is what the
// job gets with AWS_XRAY_SDK_DISABLED=true: every method does nothing.
type xraySpan struct {
	seg    *xray.Segment
	root   bool
	cancel context.CancelFunc
	// streamed counts the subsegments under the root sent on their own.
	streamed *atomic.Int64
}

func (s *xraySpan) live() bool { return s.seg != nil && s.seg.ParentSegment != nil }

func (s *xraySpan) TraceID() string {
	if !s.live() {
		return ""
	}
	return s.seg.ParentSegment.TraceID
}

func (s *xraySpan) Sampled() bool { return s.live() && s.seg.ParentSegment.Sampled }

func (s *xraySpan) Header() string {
	if !s.live() {
		return ""
	}
	return s.seg.DownstreamHeader().String()
}

func (s *xraySpan) Annotate(key string, value any) {
	if s.live() {
		_ = s.seg.AddAnnotation(key, value) // only fails on a value type we never pass
	}
}

func (s *xraySpan) Metadata(key string, value any) {
	if s.live() {
		_ = s.seg.AddMetadataToNamespace(metadataNamespace, key, value)
	}
}

func (s *xraySpan) SendInProgress() {
	if !s.live() || !s.root {
		return
	}
	// The emitter marshals the segment as it is: in_progress and no
	// end_time, which X-Ray keeps until the complete document with the same
	// ID replaces it. The SDK has no call for this; its emitter does the
	// sending, and Emitted stays false so End still sends the segment.
	seg := s.seg
	seg.Lock()
	if !seg.Dummy && seg.InProgress {
		seg.GetConfiguration().Emitter.Emit(seg)
	}
	seg.Unlock()
}

func (s *xraySpan) End(err error) {
	if !s.live() {
		return
	}
	seg := s.seg
	// A request cut short by a signal leaves the SDK's own HTTP "response"
	// subsegment open: nothing in xray.Client closes it then.
	closeOpenSubsegments(seg, err)
	if !s.root {
		// CloseAndStream sends the subsegment now as a document of its own
		// and takes it out of the segment's tree; Close would keep it until
		// the segment ends (the SDK's streaming strategy only acts then, and
		// only past 20 subsegments), and a job killed before that would
		// lose every finished step.
		if s.streamed != nil {
			s.streamed.Add(int64(treeSize(seg)))
		}
		switch classify(err) {
		case outcomeOK:
			seg.CloseAndStream(nil)
		case outcomeError:
			seg.Lock()
			markFailed(seg, outcomeError, err)
			seg.Unlock()
			seg.CloseAndStream(nil)
		case outcomeFault:
			seg.CloseAndStream(err) // the SDK marks a closing error as a fault
		}
		return
	}
	// The root is closed and sent here rather than with seg.Close: Close
	// sends only once every subsegment has closed, and it races the SDK's
	// context watcher, which can send the segment a second time. Emit wants
	// the segment write-locked.
	_ = seg.AddMetadataToNamespace(metadataNamespace, subsegmentsKey, s.streamed.Load()+int64(treeSize(seg)-1))
	seg.Lock()
	seg.EndTime = float64(time.Now().UnixNano()) / float64(time.Second)
	seg.InProgress = false
	markFailed(seg, classify(err), err)
	if !seg.Dummy && !seg.Emitted {
		seg.Emitted = true
		seg.GetConfiguration().Emitter.Emit(seg)
	}
	seg.Unlock()
	s.cancel() // ends the watcher, which finds the segment sent
}

// closeOpenSubsegments closes, deepest first, every subsegment under seg
// that is still in progress, with err, so the trace has no pending pieces.
// The SDK keeps the tree in an unexported field and offers no way to walk
// it; reading it through reflect is tied to the pinned v2.0.3, in
// maintenance, and TestSampleSIGTERM fails if that ever stops working.
func closeOpenSubsegments(seg *xray.Segment, err error) {
	seg.RLock()
	kids := rawSubsegments(seg)
	seg.RUnlock()
	for _, k := range kids {
		closeOpenSubsegments(k, err)
		if k.RLock(); k.InProgress {
			k.RUnlock()
			k.Close(err)
			continue
		}
		k.RUnlock()
	}
}

// treeSize counts seg and the subsegments under it that it still holds:
// what its document embeds when it is sent.
func treeSize(seg *xray.Segment) int {
	seg.RLock()
	kids := rawSubsegments(seg)
	seg.RUnlock()
	n := 1
	for _, k := range kids {
		n += treeSize(k)
	}
	return n
}

// rawSubsegments returns seg's children; seg must be locked.
func rawSubsegments(seg *xray.Segment) []*xray.Segment {
	f := reflect.ValueOf(seg).Elem().FieldByName("rawSubsegments")
	if !f.IsValid() || f.Kind() != reflect.Slice {
		return nil
	}
	out := make([]*xray.Segment, f.Len())
	for i := range out {
		out[i] = (*xray.Segment)(f.Index(i).UnsafePointer())
	}
	return out
}

// markFailed records err on a locked segment.
func markFailed(seg *xray.Segment, o outcome, err error) {
	switch o {
	case outcomeOK:
		return
	case outcomeError:
		seg.Error = true
	case outcomeFault:
		seg.Fault = true
	}
	fs := seg.ParentSegment.GetConfiguration().ExceptionFormattingStrategy
	seg.GetCause().Exceptions = append(seg.GetCause().Exceptions, fs.ExceptionFromError(err))
}
