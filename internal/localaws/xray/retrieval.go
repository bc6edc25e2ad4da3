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
	return s.listRetrieved(*in.RetrievalToken, in.TraceFormat)
}

// listRetrieved is what a retrieval found, in the format asked for.
func (s *Service) listRetrieved(token, format string) (*listRetrievedTracesOutput, error) {
	requested := format
	switch format {
	case "":
		format = "XRAY"
	case "XRAY", "OTEL":
	default:
		return nil, invalidRequest("TraceFormat %q is not XRAY or OTEL", requested)
	}
	s.readFresh()
	defer s.mu.RUnlock()
	rt := s.retrievals[token]
	if rt == nil {
		return nil, resourceNotFound("Retrieval token %s not found", token)
	}
	out := &listRetrievedTracesOutput{
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

type graphEdge struct {
	ReferenceId        int
	StartTime, EndTime float64
}

type graphService struct {
	ReferenceId        int
	Name               string
	Names              []string
	Type               string `json:",omitempty"`
	Root               bool
	StartTime, EndTime float64
	Edges              []graphEdge
}

type retrievedService struct {
	Service graphService
	Links   []struct{}
}

// getRetrievedTracesGraph answers the service graph of a retrieval's
// traces: a node for each service that sent segments and each service an
// inferred segment stands for, and an edge from a caller to each service
// it called.
func (s *Service) getRetrievedTracesGraph(r *http.Request) (any, error) {
	var in struct {
		RetrievalToken *string
		NextToken      *string
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.RetrievalToken == nil {
		return nil, invalidRequest("RetrievalToken is required")
	}
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, invalidRequest("NextToken %q is not a token this operation returned", *in.NextToken)
	}
	list, err := s.listRetrieved(*in.RetrievalToken, "XRAY")
	if err != nil {
		return nil, err
	}
	out := struct {
		RetrievalStatus string
		Services        []retrievedService
	}{RetrievalStatus: list.RetrievalStatus, Services: []retrievedService{}}
	type node struct {
		svc   *graphService
		edges map[int]*graphEdge
	}
	var nodes []*node
	byName := map[string]*node{}
	owner := map[string]*node{} // segment and subsegment id → its service
	type seg struct {
		n          *node
		parent     string
		start, end float64
	}
	var segs []seg
	for _, tr := range list.Traces {
		for _, sp := range tr.Spans {
			var d struct {
				segDoc
				Inferred bool `json:"inferred"`
			}
			if err := json.Unmarshal([]byte(sp.Document), &d); err != nil {
				return nil, fmt.Errorf("decode retrieved segment %s: %w", sp.Id, err)
			}
			typ := d.Origin
			if d.Inferred && typ == "" {
				typ = "remote"
			}
			key := d.Name + "\x00" + typ
			n := byName[key]
			if n == nil {
				n = &node{svc: &graphService{ReferenceId: len(nodes), Name: d.Name, Names: []string{d.Name}, Type: typ,
					StartTime: math.Inf(1), Edges: []graphEdge{}}, edges: map[int]*graphEdge{}}
				nodes = append(nodes, n)
				byName[key] = n
			}
			start, end := *d.StartTime, *d.StartTime
			if d.EndTime != nil {
				end = *d.EndTime
			}
			n.svc.StartTime, n.svc.EndTime = math.Min(n.svc.StartTime, start), math.Max(n.svc.EndTime, end)
			n.svc.Root = n.svc.Root || d.ParentID == ""
			var walk func(x *segDoc)
			walk = func(x *segDoc) {
				owner[x.ID] = n
				for i := range x.Subsegments {
					walk(&x.Subsegments[i])
				}
			}
			walk(&d.segDoc)
			segs = append(segs, seg{n, d.ParentID, start, end})
		}
	}
	for _, sg := range segs {
		caller := owner[sg.parent]
		if caller == nil || caller == sg.n {
			continue
		}
		e := caller.edges[sg.n.svc.ReferenceId]
		if e == nil {
			e = &graphEdge{ReferenceId: sg.n.svc.ReferenceId, StartTime: sg.start, EndTime: sg.end}
			caller.edges[sg.n.svc.ReferenceId] = e
		}
		e.StartTime, e.EndTime = math.Min(e.StartTime, sg.start), math.Max(e.EndTime, sg.end)
	}
	for _, n := range nodes {
		for id := range len(nodes) {
			if e := n.edges[id]; e != nil {
				n.svc.Edges = append(n.svc.Edges, *e)
			}
		}
		out.Services = append(out.Services, retrievedService{Service: *n.svc, Links: []struct{}{}})
	}
	return out, nil
}
