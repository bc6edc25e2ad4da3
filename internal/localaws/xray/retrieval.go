package xray

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// retrievalTimeout is how long a trace retrieval may run before X-Ray ends
// it as TIMEOUT.
const retrievalTimeout = 60 * time.Minute

// retrieval is one StartTraceRetrieval: the traces asked for, the time
// range their spans must lie in, and when it started.
type retrieval struct {
	traceIDs  []string
	from, to  float64
	started   time.Time
	cancelled bool
}

// status is the retrieval's RetrievalStatus now: SCHEDULED for the first
// tenth of RetrievalDelay, RUNNING until it has passed, then COMPLETE.
func (r *retrieval) status(now time.Time, delay time.Duration) string {
	elapsed := now.Sub(r.started)
	switch {
	case r.cancelled:
		return "CANCELLED"
	case delay >= retrievalTimeout && elapsed >= retrievalTimeout:
		return "TIMEOUT"
	case elapsed < delay/10:
		return "SCHEDULED"
	case elapsed < delay:
		return "RUNNING"
	}
	return "COMPLETE"
}

func resourceNotFound(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusNotFound, "ResourceNotFoundException", format, a...)
}

func (s *Service) startTraceRetrieval(r *http.Request) (any, error) {
	var in struct {
		TraceIds           []string
		StartTime, EndTime *float64
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	switch {
	case len(in.TraceIds) == 0:
		return nil, invalidRequest("TraceIds is required")
	case in.StartTime == nil || in.EndTime == nil:
		return nil, invalidRequest("StartTime and EndTime are required")
	case *in.EndTime < *in.StartTime:
		return nil, invalidRequest("EndTime %v is before StartTime %v", *in.EndTime, *in.StartTime)
	}
	for _, id := range in.TraceIds {
		if !traceIDPattern().MatchString(id) {
			return nil, invalidRequest("trace ID %q is not 1-<8 hex digits>-<24 hex digits>", id)
		}
	}
	token := awsproto.NewRequestID()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retrievals[token] = &retrieval{traceIDs: in.TraceIds, from: *in.StartTime, to: *in.EndTime, started: s.env.Clock.Now()}
	return struct{ RetrievalToken string }{token}, nil
}

func (s *Service) cancelTraceRetrieval(r *http.Request) (any, error) {
	var in struct{ RetrievalToken *string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.RetrievalToken == nil {
		return nil, invalidRequest("RetrievalToken is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.retrievals[*in.RetrievalToken]
	if rt == nil {
		return nil, resourceNotFound("Retrieval token %s not found", *in.RetrievalToken)
	}
	if st := rt.status(s.env.Clock.Now(), s.cfg.RetrievalDelay); st != "SCHEDULED" && st != "RUNNING" {
		return nil, invalidRequest("The retrieval is %s and cannot be cancelled", st)
	}
	rt.cancelled = true
	return struct{}{}, nil
}

type retrievedTrace struct {
	Id       string
	Duration float64
	Spans    []segmentOut
}

type listRetrievedTracesOutput struct {
	RetrievalStatus string
	TraceFormat     string
	Traces          []retrievedTrace
}

func (s *Service) listRetrievedTraces(r *http.Request) (any, error) {
	var in struct {
		RetrievalToken *string
		TraceFormat    string
		NextToken      *string
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	switch {
	case in.RetrievalToken == nil:
		return nil, invalidRequest("RetrievalToken is required")
	case len(*in.RetrievalToken) > 1020:
		return nil, invalidRequest("RetrievalToken is longer than 1020 characters")
	case in.NextToken != nil && *in.NextToken != "":
		return nil, invalidRequest("NextToken %q is not a token this operation returned", *in.NextToken)
	}
	format := in.TraceFormat
	switch format {
	case "":
		format = "XRAY"
	case "XRAY", "OTEL":
	default:
		return nil, invalidRequest("TraceFormat %q is not XRAY or OTEL", in.TraceFormat)
	}
	s.readFresh()
	defer s.mu.RUnlock()
	rt := s.retrievals[*in.RetrievalToken]
	if rt == nil {
		return nil, resourceNotFound("Retrieval token %s not found", *in.RetrievalToken)
	}
	out := listRetrievedTracesOutput{
		RetrievalStatus: rt.status(s.env.Clock.Now(), s.cfg.RetrievalDelay),
		TraceFormat:     format,
		Traces:          []retrievedTrace{},
	}
	if out.RetrievalStatus != "COMPLETE" {
		// Nothing until the retrieval is complete, as X-Ray answers.
		return out, nil
	}
	// What the retrieval found is what aws/spans held when it completed.
	done := rt.started.Add(s.cfg.RetrievalDelay)
	keep := func(d *document) bool {
		end := d.end
		if end == 0 {
			end = d.start
		}
		return d.inLogs && !d.arrived.After(done) && end >= rt.from && d.start <= rt.to
	}
	for _, id := range rt.traceIDs {
		t := s.traces[id]
		if t == nil {
			continue
		}
		rtr, err := t.retrieved(keep, format)
		if err != nil {
			return nil, err
		}
		if len(rtr.Spans) > 0 {
			out.Traces = append(out.Traces, rtr)
		}
	}
	return out, nil
}

// retrieved is the trace's kept documents as ListRetrievedTraces returns
// them: in the XRAY format the segment documents BatchGetTraces would
// return; in the OTEL format one span document for each segment and
// subsegment.
func (t *trace) retrieved(keep func(*document) bool, format string) (retrievedTrace, error) {
	out := retrievedTrace{Id: t.id, Spans: []segmentOut{}}
	start, end := math.Inf(1), math.Inf(-1)
	var kept []*document
	for _, d := range t.docs {
		if d = d.version(keep); d != nil {
			kept = append(kept, d)
			start, end = math.Min(start, d.start), math.Max(end, math.Max(d.start, d.end))
		}
	}
	if start <= end {
		out.Duration = end - start
	}
	if format == "XRAY" {
		segs, err := t.segments(keep)
		out.Spans = append(out.Spans, segs...)
		return out, err
	}
	for _, d := range kept {
		var seg segDoc
		if err := json.Unmarshal(d.raw, &seg); err != nil {
			return out, fmt.Errorf("decode stored segment %s: %w", d.id, err)
		}
		for _, rec := range spanRecords(&seg) {
			b, err := json.Marshal(rec)
			if err != nil {
				return out, fmt.Errorf("encode span %s: %w", rec.SpanID, err)
			}
			out.Spans = append(out.Spans, segmentOut{Id: rec.SpanID, Document: string(b)})
		}
	}
	return out, nil
}
