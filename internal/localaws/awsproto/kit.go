package awsproto

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Service is one AWS service as the stand-in's router sees it. The kits
// below implement it from an operations table; a service embeds its
// protocol's kit and declares the table.
type Service interface {
	http.Handler
	// Operation names the API operation a request calls, as AWS spells it
	// (CreateRole, PutObject), or "" when it cannot tell. The body is
	// already buffered; the request's Body reads it again.
	Operation(r *http.Request, body []byte) string
	// WriteError writes an error in the service's own protocol.
	WriteError(w http.ResponseWriter, r *http.Request, e *Error)
	// ThrottleError is the service's own throttling error, with its status.
	ThrottleError() *Error
}

var (
	_ Service = JSON{}
	_ Service = Query{}
	_ Service = EC2{}
	_ Service = RESTJSON{}
)

// JSON is a JSON 1.1 service (ECR, CloudWatch Logs): X-Amz-Target names
// the operation, the body is its input, and an error's code is in __type.
type JSON struct {
	// Name is the service as an unknown operation's answer names it.
	Name string
	// Ops answers each operation from its request body.
	Ops map[string]func(body []byte) (any, error)
}

// Decoded adapts an operation taking its JSON input to an Ops entry; a body
// that does not decode is a SerializationException, as AWS answers it.
func Decoded[In any](op func(In) (any, error)) func(body []byte) (any, error) {
	return func(body []byte) (any, error) {
		var in In
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
			return nil, Errorf(http.StatusBadRequest, "SerializationException", "could not decode the request: %v", err)
		}
		return op(in)
	}
}

// Operation is what follows the dot in X-Amz-Target.
func (JSON) Operation(r *http.Request, _ []byte) string { return JSONTarget(r) }

// WriteError writes e in JSON 1.1.
func (JSON) WriteError(w http.ResponseWriter, _ *http.Request, e *Error) { WriteJSONError(w, e) }

// ThrottleError is the JSON 1.1 services' ThrottlingException (400).
func (JSON) ThrottleError() *Error {
	return Errorf(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
}

// ServeHTTP answers one call from the table.
func (p JSON) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := JSONTarget(r)
	h, ok := p.Ops[op]
	if !ok {
		WriteJSONError(w, NotImplemented(p.Name, op))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		WriteJSONError(w, Errorf(http.StatusBadRequest, "SerializationException", "read request body: %v", err))
		return
	}
	out, err := h(body)
	if err != nil {
		WriteJSONError(w, AsError(err))
		return
	}
	WriteJSON(w, out)
}

// Query is a query-protocol service (IAM, STS): the Action form value names
// the operation, the form is its input, and the answer is
// <ActionResponse><ActionResult> in Namespace.
type Query struct {
	// Name is the service as an unknown operation's answer names it.
	Name      string
	Namespace string
	// Ops answers each operation from the request's form; a nil result
	// writes no <ActionResult>.
	Ops map[string]func(form url.Values) (any, error)
}

// Operation is the Action form value.
func (Query) Operation(r *http.Request, body []byte) string { return QueryAction(r, body) }

// WriteError writes e as the query protocol's <ErrorResponse>.
func (Query) WriteError(w http.ResponseWriter, _ *http.Request, e *Error) { WriteQueryError(w, e) }

// ThrottleError is the query services' Throttling (400).
func (Query) ThrottleError() *Error {
	return Errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
}

// ServeHTTP answers one call from the table.
func (p Query) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		WriteQueryError(w, Errorf(http.StatusBadRequest, "MalformedQueryString", "parse request: %v", err))
		return
	}
	action := r.Form.Get("Action")
	h, ok := p.Ops[action]
	if !ok {
		WriteQueryError(w, NotImplemented(p.Name, action))
		return
	}
	out, err := h(r.Form)
	if err != nil {
		WriteQueryError(w, AsError(err))
		return
	}
	WriteQuery(w, p.Namespace, action, out)
}

// EC2 is EC2's query protocol: the Action form value names the operation,
// DryRun is answered before any operation runs, and the answer is
// <ActionResponse> with the result's fields.
type EC2 struct {
	// Ops answers each operation from the request's form.
	Ops map[string]func(form url.Values) (any, error)
}

// Operation is the Action form value.
func (EC2) Operation(r *http.Request, body []byte) string { return QueryAction(r, body) }

// WriteError writes e as EC2's <Response><Errors><Error>.
func (EC2) WriteError(w http.ResponseWriter, _ *http.Request, e *Error) { WriteEC2Error(w, e) }

// ThrottleError is EC2's RequestLimitExceeded (503).
func (EC2) ThrottleError() *Error {
	return Errorf(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
}

// ServeHTTP answers one call from the table.
func (p EC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		WriteEC2Error(w, Errorf(http.StatusBadRequest, "InvalidParameterValue", "could not parse the request: %v", err))
		return
	}
	action := r.Form.Get("Action")
	h, ok := p.Ops[action]
	if !ok {
		WriteEC2Error(w, NotImplemented("ec2", action))
		return
	}
	// EC2 checks DryRun before doing anything: the caller only asks
	// whether it may.
	if r.Form.Get("DryRun") == "true" {
		WriteEC2Error(w, Errorf(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."))
		return
	}
	out, err := h(r.Form)
	if err != nil {
		WriteEC2Error(w, AsError(err))
		return
	}
	WriteEC2(w, action, out)
}

// RESTJSON is a REST-JSON service (Batch, X-Ray): the method and path name
// the operation, and an error's code is in X-Amzn-ErrorType and __type.
type RESTJSON struct {
	// Name is the service as an unknown operation's answer names it.
	Name string
	// Routes names the operation of each "METHOD /path"; a path that ends
	// in / matches every path below it (/v1/tags/{resourceArn}). Routes
	// may name operations Ops does not answer: those are NotImplemented.
	Routes map[string]string
	// Ops answers each operation from its request.
	Ops map[string]func(r *http.Request) (any, error)
	// Throttle is the service's throttling error.
	Throttle *Error
}

// Operation is the route's operation, or "".
func (p RESTJSON) Operation(r *http.Request, _ []byte) string {
	key := r.Method + " " + r.URL.Path
	if op, ok := p.Routes[key]; ok {
		return op
	}
	for route, op := range p.Routes {
		if strings.HasSuffix(route, "/") && strings.HasPrefix(key, route) {
			return op
		}
	}
	return ""
}

// WriteError writes e in REST-JSON.
func (RESTJSON) WriteError(w http.ResponseWriter, _ *http.Request, e *Error) {
	WriteRESTJSONError(w, e)
}

// ThrottleError is Throttle.
func (p RESTJSON) ThrottleError() *Error { return p.Throttle }

// ServeHTTP answers one call from the table; a request no route matches
// is UnknownOperationException (404).
func (p RESTJSON) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := p.Operation(r, nil)
	if op == "" {
		WriteRESTJSONError(w, Errorf(http.StatusNotFound, "UnknownOperationException",
			"batchxray local's %s has no operation at %s %s", p.Name, r.Method, r.URL.Path))
		return
	}
	h, ok := p.Ops[op]
	if !ok {
		WriteRESTJSONError(w, NotImplemented(p.Name, op))
		return
	}
	out, err := h(r)
	if err != nil {
		WriteRESTJSONError(w, AsError(err))
		return
	}
	WriteRESTJSON(w, out)
}

// S3 is the part of S3's REST-XML protocol a service routing its own
// requests (behind gofakes3) shares with the others: errors and throttling.
type S3 struct{}

// WriteError writes e as S3's <Error>.
func (S3) WriteError(w http.ResponseWriter, _ *http.Request, e *Error) { WriteS3Error(w, e) }

// ThrottleError is S3's SlowDown (503).
func (S3) ThrottleError() *Error {
	return &Error{Code: "SlowDown", Message: "Please reduce your request rate.", Status: http.StatusServiceUnavailable}
}
