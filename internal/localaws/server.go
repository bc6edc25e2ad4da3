package localaws

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/batch"
	"github.com/batchxray/batchxray/internal/localaws/xray"
)

// Options configure the stand-in. The zero value is usable.
type Options struct {
	// Account is the AWS account ID in every ARN (default 000000000000).
	Account string
	// Region is the region in every ARN (default us-east-1).
	Region string
	// Clock drives every delay and timestamp (default the real clock).
	Clock clockwork.Clock
	// Logger logs each request at debug level (default discard).
	Logger *slog.Logger

	// Latency is added to every call, as a real endpoint's round trip.
	Latency time.Duration
	// ThrottleRate is the share of calls (0 to 1) answered with the
	// service's own throttling error. The choice is deterministic: with 0.25,
	// every fourth call is throttled.
	ThrottleRate float64
	// IAMPropagation is how long a new role or instance profile stays
	// invisible to the other services, as IAM's eventual consistency.
	IAMPropagation time.Duration
	// ComputeEnvironmentDelay is how long Batch compute environments and
	// job queues stay CREATING, UPDATING or DELETING (default 2s; negative:
	// no delay).
	ComputeEnvironmentDelay time.Duration
	// BatchRetention is how long Batch still returns a finished job
	// (default batch.DefaultRetention; negative: forever).
	BatchRetention time.Duration
	// XRay are X-Ray's settings: its indexing delay, trace segment
	// destination and indexing rule. Its spans go to this stand-in's
	// CloudWatch Logs unless XRay.Spans is set.
	XRay xray.Config
	// Executable is the binary Batch runs when a job's command starts with
	// the word batchxray (default: the path this process was started as,
	// see batch.DefaultExecutable).
	Executable string
	// AllowRemote answers requests whatever their Host says. Without it
	// only loopback addresses and localhost are answered: the stand-in
	// runs the commands it is sent, and a page in a browser could reach a
	// loopback port through a name it rebinds to 127.0.0.1.
	AllowRemote bool
	// NoDefaultVPC starts EC2 without a default VPC, as many accounts are.
	NoDefaultVPC bool
}

func (o Options) withDefaults() Options {
	if o.Account == "" {
		o.Account = "000000000000"
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.ComputeEnvironmentDelay == 0 {
		o.ComputeEnvironmentDelay = 2 * time.Second
	} else if o.ComputeEnvironmentDelay < 0 {
		o.ComputeEnvironmentDelay = 0
	}
	return o
}

// Call is one request the stand-in answered, for tests that count calls.
type Call struct {
	Service   string
	Operation string
}

// Mutating reports whether the call changes state, by AWS's naming: reads
// are Describe, Get, List, BatchGet, Head, Filter, Lookup.
func (c Call) Mutating() bool {
	for _, p := range []string{"Describe", "Get", "List", "BatchGet", "Head", "Filter", "Lookup"} {
		if strings.HasPrefix(c.Operation, p) {
			return false
		}
	}
	return c.Operation != ""
}

// Server is the stand-in's HTTP endpoint.
type Server struct {
	opts Options
	// services route requests by SigV4 signing name; xray is the one the
	// server itself calls (for the daemon).
	services map[string]awsproto.Service
	xray     *xray.Service
	batch    *batch.Service
	// mounts are handlers served by path prefix whatever the signature
	// says (the OCI registry at /v2/).
	mounts map[string]http.Handler

	endpoint atomic.Pointer[string]
	// closers stop the services' background work, in order.
	closers []func()

	mu       sync.Mutex
	otlp     *xray.OTLPReceiver
	calls    []Call
	throttle float64
	faults   []*fault
}

type fault struct {
	service, operation string
	err                *awsproto.Error
	remaining          int
}

// Options returns the options the server runs with, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// Calls returns every call answered so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// ResetCalls forgets the calls answered so far.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// InjectFault makes the next times calls of service's operation fail with
// err, before the service sees them (times < 0: every call).
func (s *Server) InjectFault(service, operation string, err *awsproto.Error, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{service, operation, err, times})
}

// ExceedMemory has Batch kill the RUNNING job as if its processes went over
// its memory (OutOfMemoryError), at its next memory sample.
func (s *Server) ExceedMemory(jobID string) error { return s.batch.ExceedMemory(jobID) }

// credentialScope matches the service in a SigV4 Authorization header:
// Credential=AKID/20260101/us-east-1/iam/aws4_request.
var credentialScope = awsproto.Pattern(`Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request`)

// serviceName is the service a request is for: the SigV4 credential scope,
// else a presigned URL's X-Amz-Credential, else the first label of the host
// (iam.amazonaws.com), else "".
func serviceName(r *http.Request) string {
	if m := credentialScope().FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	if c := r.URL.Query().Get("X-Amz-Credential"); c != "" {
		if parts := strings.Split(c, "/"); len(parts) == 5 {
			return parts[3]
		}
	}
	host := r.Host
	if i := strings.IndexByte(host, '.'); i > 0 {
		return host[:i]
	}
	return ""
}

// Loopback reports whether hostport (a request's Host, or an address to
// listen on) names this machine only: a loopback address, localhost, or a
// name under localhost (an S3 bucket addressed virtual-host style), which
// resolvers keep on loopback (RFC 6761). An empty host (":4566", every
// interface) is not.
func Loopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// writeRefused answers a request the stand-in will not serve, saying why.
// The service is not known yet, so the protocol is told from the request:
// a form is the query protocol's, X-Amz-Target JSON 1.1's, anything else
// REST-JSON's.
func writeRefused(w http.ResponseWriter, r *http.Request, status int, code, format string, a ...any) {
	e := awsproto.Errorf(status, code, format, a...)
	switch {
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		awsproto.WriteQueryError(w, e)
	case r.Header.Get("X-Amz-Target") != "":
		awsproto.WriteJSONError(w, e)
	default:
		awsproto.WriteRESTJSONError(w, e)
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.opts.AllowRemote && !Loopback(r.Host) {
		s.opts.Logger.Debug("refused host", "host", r.Host, "method", r.Method, "path", r.URL.Path)
		writeRefused(w, r, http.StatusForbidden, "AccessDeniedException",
			"batchxray local answers only requests to a loopback address or localhost, not to Host %q", r.Host)
		return
	}
	// A SigV4-signed request is for a service even when its path looks
	// like a mount's: an S3 key v2/... addressed virtual-host style is
	// /v2/... . Registry clients never sign with SigV4.
	signed := credentialScope().MatchString(r.Header.Get("Authorization")) || r.URL.Query().Has("X-Amz-Credential")
	for prefix, h := range s.mounts {
		if !signed && strings.HasPrefix(r.URL.Path, prefix) {
			h.ServeHTTP(w, r)
			return
		}
	}
	// AWS answers an unsigned API request with MissingAuthenticationToken;
	// so does the stand-in, whatever the key (any key is accepted).
	if !signed {
		writeRefused(w, r, http.StatusForbidden, "MissingAuthenticationTokenException",
			"Missing Authentication Token: sign the request with SigV4 (any access key does, e.g. AWS_ACCESS_KEY_ID=local)")
		return
	}
	name := serviceName(r)
	svc, ok := s.services[name]
	if !ok {
		s.opts.Logger.Debug("unknown service", "service", name, "method", r.Method, "path", r.URL.Path)
		awsproto.WriteJSONError(w, awsproto.Errorf(http.StatusBadRequest, "UnknownService",
			"batchxray local does not serve the service %q (from the request's SigV4 credential scope)", name))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		svc.WriteError(w, r, awsproto.Errorf(http.StatusBadRequest, "IncompleteBody", "read request body: %v", err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	op := svc.Operation(r, body)
	s.opts.Logger.Debug("request", "service", name, "operation", op, "method", r.Method, "path", r.URL.Path)

	if s.opts.Latency > 0 {
		select {
		case <-s.opts.Clock.After(s.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if e := s.admit(name, op, svc); e != nil {
		s.opts.Logger.Debug("injected error", "service", name, "operation", op, "code", e.Code)
		svc.WriteError(w, r, e)
		return
	}
	svc.ServeHTTP(w, r)
}

// admit records the call and decides whether an injected fault or the
// throttle answers it instead of the service.
func (s *Server) admit(service, op string, svc awsproto.Service) *awsproto.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{service, op})
	for _, f := range s.faults {
		if f.service == service && f.operation == op && f.remaining != 0 {
			f.remaining--
			return f.err
		}
	}
	if s.opts.ThrottleRate > 0 {
		s.throttle += s.opts.ThrottleRate
		if s.throttle >= 1 {
			s.throttle--
			return svc.ThrottleError()
		}
	}
	return nil
}
