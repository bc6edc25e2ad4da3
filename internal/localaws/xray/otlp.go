package xray

import (
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// OTLPPath is where OTLP/HTTP trace exports are posted, on X-Ray's endpoint
// and on the host agent alike.
const OTLPPath = "/v1/traces"

// The limits of X-Ray's OTLP endpoint.
const (
	otlpMaxRequest   = 5 << 20 // bytes a request
	otlpMaxSpans     = 10000   // spans a request
	otlpMaxSpan      = 200 << 10
	otlpMaxSpanAge   = 14 * 24 * time.Hour
	otlpMaxSpanAhead = 2 * time.Hour
	// agentMaxRequest bounds what the host agent reads of one request.
	agentMaxRequest = 64 << 20
)

// ServeHTTP answers X-Ray's API, and OTLP trace exports at OTLPPath.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == OTLPPath {
		s.serveOTLP(w, r, true)
		return
	}
	s.RESTJSON.ServeHTTP(w, r)
}

// Operation names X-Ray's operations by their routes, and an OTLP export
// as OTLPTraces.
func (s *Service) Operation(r *http.Request, body []byte) string {
	if r.Method == http.MethodPost && r.URL.Path == OTLPPath {
		return "OTLPTraces"
	}
	return s.RESTJSON.Operation(r, body)
}

// otlpError is an OTLP/HTTP failure: its HTTP status and message.
type otlpError struct {
	status int
	msg    string
}

func (e *otlpError) Error() string { return e.msg }

func otlpErrorf(status int, format string, a ...any) error {
	return &otlpError{status, fmt.Sprintf(format, a...)}
}

// serveOTLP takes one OTLP/HTTP export, protobuf or JSON, gzip or not. X-Ray's
// endpoint (aws true) refuses it unless Transaction Search is on and keeps
// its limits; the host agent takes what it is sent.
func (s *Service) serveOTLP(w http.ResponseWriter, r *http.Request, aws bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	asJSON := ct == "application/json"
	fail := func(err error) {
		var oe *otlpError
		if !errors.As(err, &oe) {
			oe = &otlpError{http.StatusInternalServerError, err.Error()}
		}
		writeOTLPStatus(w, asJSON, oe)
	}
	if r.Method != http.MethodPost {
		fail(otlpErrorf(http.StatusMethodNotAllowed, "%s takes POST, not %s", OTLPPath, r.Method))
		return
	}
	if ct != "application/json" && ct != "application/x-protobuf" {
		fail(otlpErrorf(http.StatusUnsupportedMediaType, "Content-Type %q is not application/x-protobuf or application/json", ct))
		return
	}
	if aws {
		s.mu.Lock()
		on := s.transactionSearch()
		s.mu.Unlock()
		if !on {
			fail(otlpErrorf(http.StatusBadRequest, "OTLP trace export needs Transaction Search: the trace segment destination is XRay, not CloudWatchLogs (UpdateTraceSegmentDestination)"))
			return
		}
	}
	limit := int64(agentMaxRequest)
	if aws {
		limit = otlpMaxRequest
	}
	req, err := readOTLP(r, asJSON, limit)
	if err != nil {
		fail(err)
		return
	}
	rejected, msg, err := s.ingestOTLP(req, aws)
	if err != nil {
		fail(err)
		return
	}
	writeOTLPResponse(w, asJSON, rejected, msg)
}

// writeOTLPResponse writes an ExportTraceServiceResponse, with a partial
// success when spans were rejected. It is encoded here rather than with
// the collector package's generated type, which would link gRPC's gateway
// into every command.
func writeOTLPResponse(w http.ResponseWriter, asJSON bool, rejected int64, msg string) {
	var b []byte
	if asJSON {
		w.Header().Set("Content-Type", "application/json")
		if rejected > 0 {
			// protojson writes an int64 as a string.
			b, _ = json.Marshal(map[string]any{"partialSuccess": map[string]any{
				"rejectedSpans": strconv.FormatInt(rejected, 10), "errorMessage": msg}})
		} else {
			b = []byte("{}")
		}
	} else {
		w.Header().Set("Content-Type", "application/x-protobuf")
		if rejected > 0 {
			var ps []byte
			ps = protowire.AppendTag(ps, 1, protowire.VarintType)
			ps = protowire.AppendVarint(ps, uint64(rejected))
			ps = protowire.AppendTag(ps, 2, protowire.BytesType)
			ps = protowire.AppendString(ps, msg)
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendBytes(b, ps)
		}
	}
	_, _ = w.Write(b)
}

// writeOTLPStatus writes an OTLP/HTTP error: a google.rpc.Status (code,
// message) in the request's encoding.
func writeOTLPStatus(w http.ResponseWriter, asJSON bool, e *otlpError) {
	code := 3 // INVALID_ARGUMENT
	if e.status >= 500 {
		code = 13 // INTERNAL
	}
	if asJSON {
		b, _ := json.Marshal(struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}{code, e.msg})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.status)
		_, _ = w.Write(b)
		return
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(code))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, e.msg)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// readOTLP reads and decodes an export request (ExportTraceServiceRequest:
// its resource_spans, field 1) of at most limit bytes, after gzip.
func readOTLP(r *http.Request, asJSON bool, limit int64) ([]*tracepb.ResourceSpans, error) {
	var body io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, otlpErrorf(http.StatusBadRequest, "the gzip body cannot be read: %v", err)
		}
		defer func() { _ = zr.Close() }()
		body = zr
	default:
		return nil, otlpErrorf(http.StatusUnsupportedMediaType, "Content-Encoding %q is not gzip", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, otlpErrorf(http.StatusBadRequest, "read the request body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, otlpErrorf(http.StatusBadRequest, "the request is larger than %d bytes", limit)
	}
	var out []*tracepb.ResourceSpans
	if asJSON {
		fixed, err := hexIDsToBase64(b)
		var req struct {
			ResourceSpans  []json.RawMessage `json:"resourceSpans"`
			ResourceSpans2 []json.RawMessage `json:"resource_spans"`
		}
		if err == nil {
			err = json.Unmarshal(fixed, &req)
		}
		for _, raw := range append(req.ResourceSpans, req.ResourceSpans2...) {
			if err != nil {
				break
			}
			rs := &tracepb.ResourceSpans{}
			err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(raw, rs)
			out = append(out, rs)
		}
		if err != nil {
			return nil, otlpErrorf(http.StatusBadRequest, "the JSON body is not an OTLP ExportTraceServiceRequest: %v", err)
		}
		return out, nil
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, otlpErrorf(http.StatusBadRequest, "the protobuf body is not an OTLP ExportTraceServiceRequest: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if num != 1 || typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, otlpErrorf(http.StatusBadRequest, "the protobuf body is not an OTLP ExportTraceServiceRequest: %v", protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return nil, otlpErrorf(http.StatusBadRequest, "the protobuf body is not an OTLP ExportTraceServiceRequest: %v", protowire.ParseError(n))
		}
		b = b[n:]
		rs := &tracepb.ResourceSpans{}
		if err := proto.Unmarshal(v, rs); err != nil {
			return nil, otlpErrorf(http.StatusBadRequest, "the protobuf body is not an OTLP ExportTraceServiceRequest: %v", err)
		}
		out = append(out, rs)
	}
	return out, nil
}

// otlpIDKeys are the fields OTLP/JSON writes as hex where the protobuf JSON
// mapping has base64.
var otlpIDKeys = map[string]bool{"traceId": true, "spanId": true, "parentSpanId": true, "trace_id": true, "span_id": true, "parent_span_id": true}

// hexIDsToBase64 rewrites OTLP/JSON's hex trace and span IDs as the base64
// protojson reads.
func hexIDsToBase64(b []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, val := range x {
				if s, ok := val.(string); ok && otlpIDKeys[k] {
					if raw, err := hex.DecodeString(s); err == nil {
						x[k] = base64.StdEncoding.EncodeToString(raw)
					}
					continue
				}
				walk(val)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}

// ingestOTLP converts every span to a segment document and stores it. On
// X-Ray's endpoint (limits true) a request of too many spans is refused,
// and a span too large or out of the time window is rejected, counted in
// the partial success.
func (s *Service) ingestOTLP(req []*tracepb.ResourceSpans, limits bool) (int64, string, error) {
	n := 0
	for _, rs := range req {
		for _, ss := range rs.ScopeSpans {
			n += len(ss.Spans)
		}
	}
	if limits && n > otlpMaxSpans {
		return 0, "", otlpErrorf(http.StatusBadRequest, "the request holds %d spans, more than %d", n, otlpMaxSpans)
	}
	now := s.env.Clock.Now()
	var rejected int64
	var reasons []string
	reject := func(format string, a ...any) {
		rejected++
		if len(reasons) < 3 {
			reasons = append(reasons, fmt.Sprintf(format, a...))
		}
	}
	for _, rs := range req {
		var res map[string]any
		if rs.Resource != nil {
			res = attributes(rs.Resource.Attributes)
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				if limits {
					if size := proto.Size(sp); size > otlpMaxSpan {
						reject("span %x is %d bytes, more than %d", sp.SpanId, size, otlpMaxSpan)
						continue
					}
					start, end := time.Unix(0, int64(sp.StartTimeUnixNano)), time.Unix(0, int64(sp.EndTimeUnixNano))
					if start.Before(now.Add(-otlpMaxSpanAge)) || end.After(now.Add(otlpMaxSpanAhead)) {
						reject("span %x is more than 14 days old or 2 hours ahead", sp.SpanId)
						continue
					}
				}
				doc, err := spanToSegment(sp, res)
				if err == nil {
					err = s.Ingest(doc)
				}
				if err != nil {
					reject("span %x: %v", sp.SpanId, err)
				}
			}
		}
	}
	return rejected, strings.Join(reasons, "; "), nil
}

// OTLPReceiver is the host agent's OTLP/HTTP receiver (the CloudWatch
// agent's role on a host): it takes every export, whatever X-Ray's
// destination, and stores its spans as segments.
type OTLPReceiver struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	once sync.Once
}

// StartOTLP listens for OTLP/HTTP exports on addr (port 0 picks a free one).
func (s *Service) StartOTLP(addr string) (*OTLPReceiver, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for OTLP on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(OTLPPath, func(w http.ResponseWriter, r *http.Request) { s.serveOTLP(w, r, false) })
	o := &OTLPReceiver{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		_ = o.srv.Serve(ln)
	}()
	return o, nil
}

// Addr is the address the receiver listens on.
func (o *OTLPReceiver) Addr() string { return o.ln.Addr().String() }

// Close stops the receiver.
func (o *OTLPReceiver) Close() error {
	o.once.Do(func() {
		_ = o.srv.Close()
		<-o.done
	})
	return nil
}
