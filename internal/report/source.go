package report

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/traceid"
	"github.com/batchxray/batchxray/internal/traces"
)

// This file is the one place that reads the models of the jobs and traces
// packages: a rename there is fixed here alone.

// TraceIDTag is the tag submit puts on a job with the ID of its trace.
const TraceIDTag = jobs.TraceTagKey

// FromDetail is the report's view of a job DescribeJobs returned.
func FromDetail(d types.JobDetail) Job {
	j := jobs.FromDetail(d)
	r := Job{
		ID: j.ID, Name: j.Name, Status: string(j.Status), Reason: j.StatusReason,
		CreatedAt: j.CreatedAt, StoppedAt: j.StoppedAt,
		ArrayIndex: j.ArrayIndex, TraceID: traces.TraceID(d),
		Attempts: make([]Attempt, 0, len(j.Attempts)+1),
	}
	if j.ArrayIndex != nil {
		r.ArrayJobID = parentID(j.ID)
		// A child carries its parent's trace ID; its own derives from it
		// by the rule, and without one it is searched for.
		child, err := traceid.Child(r.TraceID, *j.ArrayIndex)
		if err != nil {
			child = ""
		}
		r.TraceID = child
	}
	for _, a := range j.Attempts {
		reason := a.StatusReason
		if a.Reason != "" && a.Reason != reason {
			reason = joinReason(reason, a.Reason)
		}
		r.Attempts = append(r.Attempts, Attempt{Start: a.StartedAt, Stop: a.StoppedAt, ExitCode: a.ExitCode, Reason: reason})
	}
	// Batch lists an attempt once it has ended; the one under way is only
	// in startedAt.
	if (j.Status == jobs.Running || j.Status == jobs.Starting) && !j.StartedAt.IsZero() {
		if n := len(r.Attempts); n == 0 || r.Attempts[n-1].Stop.Before(j.StartedAt) {
			r.Attempts = append(r.Attempts, Attempt{Start: j.StartedAt})
		}
	}
	if r.Reason == "" && len(r.Attempts) > 0 {
		r.Reason = r.Attempts[len(r.Attempts)-1].Reason
	}
	return r
}

// IsArrayParent reports whether DescribeJobs described an array parent,
// whose children are the jobs the report counts.
func IsArrayParent(d types.JobDetail) bool {
	return d.ArrayProperties != nil && d.ArrayProperties.Index == nil && d.ArrayProperties.Size != nil
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + ": " + b
}

func parentID(childID string) string {
	for i := len(childID) - 1; i >= 0; i-- {
		if childID[i] == ':' {
			return childID[:i]
		}
	}
	return ""
}

// fromTrace is a trace flattened, with the job it belongs to from its
// segment's job_id annotation (empty when it has none).
func fromTrace(t *traces.Trace) Trace {
	out := Trace{ID: t.ID}
	t.Walk(func(s *traces.Span, depth int) {
		// An inferred segment is X-Ray's node for the service its calling
		// subsegment reached, not a call of its own: counted, it would
		// double every AWS call.
		if s.Inferred {
			return
		}
		if out.JobID == "" {
			if v, ok := s.Annotations["job_id"]; ok {
				out.JobID = fmt.Sprint(v)
			}
		}
		out.Spans = append(out.Spans, Span{
			Name: s.Name, Start: s.Start, End: s.End, Depth: depth, Segment: s.Segment,
			Error: s.Error, Fault: s.Fault, Throttle: s.Throttle,
		})
	})
	return out
}

// otlpSpan is what OTLP needs of one span of a trace.
type otlpSpan struct {
	ID, ParentID, Name string
	// Service is the name of the segment the span is in.
	Service            string
	Start, End         float64
	InProgress         bool
	Segment            bool
	Error, Fault       bool
	Throttle           bool
	Namespace, Message string
	Operation, Method  string
	Status             int
	Annotations        map[string]any
}

// otlpSpans walks a trace, parents first, with each span's parent and
// service.
func otlpSpans(t *traces.Trace) []otlpSpan {
	var out []otlpSpan
	var walk func(s *traces.Span, parent, service string)
	walk = func(s *traces.Span, parent, service string) {
		if s.Segment {
			service = s.Name
		}
		out = append(out, otlpSpan{
			ID: s.ID, ParentID: parent, Name: s.Name, Service: service,
			Start: s.Start, End: s.End, InProgress: s.InProgress, Segment: s.Segment,
			Error: s.Error, Fault: s.Fault, Throttle: s.Throttle,
			Namespace: s.Namespace, Message: s.Message, Operation: s.Operation, Method: s.Method, Status: s.Status,
			Annotations: s.Annotations,
		})
		for _, c := range s.Children {
			walk(c, s.ID, service)
		}
	}
	parents := map[string]string{}
	for _, d := range t.Documents {
		parents[d.ID] = d.ParentID
	}
	for _, r := range t.Roots {
		// A root whose parent is not in the trace keeps its parent's ID.
		walk(r, parents[r.ID], r.Name)
	}
	return out
}

// OTLPTraces is the OTLP JSON of traces as the trace command found them.
func OTLPTraces(ts []*traces.Trace) ([]byte, error) {
	var all []otlpTrace
	for _, t := range ts {
		all = append(all, otlpTrace{ID: t.ID, Spans: otlpSpans(t)})
	}
	return OTLP(all)
}
