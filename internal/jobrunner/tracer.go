package jobrunner

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// tracer is all of a tracing backend the job uses. The X-Ray SDK implements
// it (xray.go); keep it this small so an OTLP exporter can take its place.
type tracer interface {
	// Begin starts the job's root span (the X-Ray segment): in the trace
	// parent names, under its parent, or in a new trace when parent is nil.
	Begin(ctx context.Context, name string, parent *traceHeader) (context.Context, span)
	// BeginChild starts a child of the span ctx carries.
	BeginChild(ctx context.Context, name string) (context.Context, span)
	// HTTPClient returns base with every request traced as a child of the
	// span in the request's context.
	HTTPClient(base *http.Client) *http.Client
	// InstrumentAWS makes every call through cfg a traced child of the span
	// in the call's context.
	InstrumentAWS(cfg *aws.Config)
}

// span is one open segment or subsegment.
type span interface {
	// TraceID is the trace's ID, 1-<epoch hex>-<24 hex>.
	TraceID() string
	// Sampled reports whether the span is recorded at all.
	Sampled() bool
	// Header is the trace header a child process joins the trace with, this
	// span as its parent (_X_AMZN_TRACE_ID).
	Header() string
	// Annotate adds a filterable key (string or number).
	Annotate(key string, value any)
	// Metadata adds a value that is kept but not indexed.
	Metadata(key string, value any)
	// SendInProgress sends the root as it stands, marked in progress, so a
	// job killed without warning (SIGKILL) still leaves its segment; End
	// later replaces it. A tracer whose wire cannot say "in progress" does
	// nothing.
	SendInProgress()
	// End closes the span. A nil err is success; otherwise classify says
	// whether it is an error or a fault. Ending a child sends it at once, so a
	// long job's finished steps are not held until the end; ending the root
	// sends what is left.
	End(err error)
}

// outcome is how a failure shows in the trace: X-Ray's error is the far side
// refusing what we asked (a 4xx), a fault is something broken (a 5xx, the
// network, a failed command, termination).
type outcome int

const (
	outcomeOK outcome = iota
	outcomeError
	outcomeFault
)

// classify decides an error's outcome from the HTTP status it carries, if
// any: our own status errors and the AWS SDK's response errors both have one.
func classify(err error) outcome {
	if err == nil {
		return outcomeOK
	}
	var st interface{ HTTPStatusCode() int }
	if errors.As(err, &st) {
		if c := st.HTTPStatusCode(); c >= 400 && c < 500 {
			return outcomeError
		}
	}
	return outcomeFault
}
