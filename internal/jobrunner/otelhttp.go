package jobrunner

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	oteltrace "go.opentelemetry.io/otel/trace"
)

// httpDetails is the transport under otelhttp's: it completes the CLIENT
// span otelhttp opened so that AWS's OpenTelemetry-to-X-Ray mapping gives
// what xray.Client records. The mapping names a call's subsegment by
// http.host (with the port, as the X-Ray SDK does; otelhttp sends only
// server.address, which names nothing); url.full loses its query, which
// the X-Ray SDK never sends (a presigned URL's query is a credential); and
// the connection's phases become the same connect, dns, dial, tls, request
// and response children xray.Client makes from httptrace. They are kept
// rather than dropped on the X-Ray side: the default path stays as it is,
// and they are what tells a slow origin (response) from a slow network
// (connect, dial, tls) in a job that fetches.
type httpDetails struct {
	base http.RoundTripper
	tr   oteltrace.Tracer
}

func (h httpDetails) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	sp := oteltrace.SpanFromContext(ctx)
	if !sp.IsRecording() {
		return h.base.RoundTrip(req)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	sp.SetAttributes(attribute.String("http.host", host), attribute.String("url.full", redactURL(req.URL.String())))
	ph := &httpPhases{tr: h.tr, ctx: ctx}
	resp, err := h.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(ctx, ph.clientTrace())))
	ph.finish(err)
	if resp != nil {
		if n, perr := strconv.Atoi(resp.Header.Get("Content-Length")); perr == nil {
			sp.SetAttributes(attribute.Int("http.response.body.size", n))
		}
	}
	return resp, err
}

// phase is a finished step of getting a connection, kept until the
// connection is known to be new: a reused one has no connect span, as with
// the X-Ray SDK.
type phase struct {
	name       string
	start, end time.Time
	err        error
}

// httpPhases follows one request through httptrace. Its callbacks come
// from the transport's goroutines, hence the lock.
type httpPhases struct {
	tr  oteltrace.Tracer
	ctx context.Context

	mu        sync.Mutex
	connStart time.Time
	open      map[string]time.Time // dns, dial, tls begun and not done
	done      []phase
	connSent  bool
	req, resp oteltrace.Span
}

func (p *httpPhases) clientTrace() *httptrace.ClientTrace {
	begin := func(name string) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.open == nil {
			p.open = map[string]time.Time{}
		}
		p.open[name] = time.Now()
	}
	end := func(name string, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if start, ok := p.open[name]; ok {
			delete(p.open, name)
			p.done = append(p.done, phase{name, start, time.Now(), err})
		}
	}
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			p.mu.Lock()
			p.connStart = time.Now()
			p.mu.Unlock()
		},
		DNSStart:             func(httptrace.DNSStartInfo) { begin("dns") },
		DNSDone:              func(i httptrace.DNSDoneInfo) { end("dns", i.Err) },
		ConnectStart:         func(string, string) { begin("dial") },
		ConnectDone:          func(_, _ string, err error) { end("dial", err) },
		TLSHandshakeStart:    func() { begin("tls") },
		TLSHandshakeDone:     func(_ tls.ConnectionState, err error) { end("tls", err) },
		GotConn:              p.gotConn,
		WroteRequest:         p.wroteRequest,
		GotFirstResponseByte: p.firstByte,
	}
}

// sendConnect sends the connect span, from GetConn to now, with its
// finished phases under it; p.mu is held.
func (p *httpPhases) sendConnect(err error) {
	if p.connSent || p.connStart.IsZero() {
		return
	}
	p.connSent = true
	ctx, conn := p.tr.Start(p.ctx, "connect", oteltrace.WithTimestamp(p.connStart))
	for _, ph := range p.done {
		_, s := p.tr.Start(ctx, ph.name, oteltrace.WithTimestamp(ph.start))
		failSpan(s, ph.err)
		s.End(oteltrace.WithTimestamp(ph.end))
	}
	failSpan(conn, err)
	conn.End()
}

func (p *httpPhases) gotConn(info httptrace.GotConnInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if info.Reused {
		p.connSent = true
	}
	p.sendConnect(nil)
	_, p.req = p.tr.Start(p.ctx, "request")
}

func (p *httpPhases) wroteRequest(info httptrace.WroteRequestInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.req == nil {
		return
	}
	failSpan(p.req, info.Err)
	p.req.End()
	p.req = nil
	_, p.resp = p.tr.Start(p.ctx, "response")
}

func (p *httpPhases) firstByte() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resp != nil {
		p.resp.End()
		p.resp = nil
	}
}

// finish ends whatever the round trip left open, with its error.
func (p *httpPhases) finish(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendConnect(err)
	for _, s := range []oteltrace.Span{p.req, p.resp} {
		if s != nil {
			failSpan(s, err)
			s.End()
		}
	}
	p.req, p.resp = nil, nil
}

// failSpan marks s failed by err, a fault in X-Ray's terms.
func failSpan(s oteltrace.Span, err error) {
	if err != nil {
		s.RecordError(err)
		s.SetStatus(codes.Error, err.Error())
	}
}
