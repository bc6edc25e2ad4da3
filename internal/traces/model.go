package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
)

// Document is one X-Ray segment or subsegment document, with the fields this
// package reads or shows. It is also what `--output json` prints, so that the
// documents appear as objects rather than the escaped strings BatchGetTraces
// returns. It holds every field of X-Ray's segment document format except
// the rarely used ones (such as cause stack frames); those are dropped.
type Document struct {
	ID       string `json:"id"`
	TraceID  string `json:"trace_id,omitempty"`
	ParentID string `json:"parent_id,omitempty"`
	// Type is "subsegment" for a subsegment sent on its own.
	Type       string  `json:"type,omitempty"`
	Name       string  `json:"name"`
	StartTime  float64 `json:"start_time"`
	EndTime    float64 `json:"end_time,omitempty"`
	InProgress bool    `json:"in_progress,omitempty"`
	// Error is a client error (4xx), Fault a server error (5xx) and Throttle
	// a 429, as the SDK sets them.
	Error    bool   `json:"error,omitempty"`
	Fault    bool   `json:"fault,omitempty"`
	Throttle bool   `json:"throttle,omitempty"`
	Cause    *Cause `json:"cause,omitempty"`
	// Namespace is "aws" for an instrumented AWS SDK call and "remote" for
	// an instrumented HTTP call.
	Namespace string `json:"namespace,omitempty"`
	// Inferred marks a segment X-Ray made up for a downstream service from
	// the subsegment that called it (its ParentID); Origin is the kind of
	// resource, such as AWS::DynamoDB::Table.
	Inferred     bool                      `json:"inferred,omitempty"`
	Origin       string                    `json:"origin,omitempty"`
	ResourceARN  string                    `json:"resource_arn,omitempty"`
	User         string                    `json:"user,omitempty"`
	PrecursorIDs []string                  `json:"precursor_ids,omitempty"`
	HTTP         *HTTP                     `json:"http,omitempty"`
	AWS          map[string]any            `json:"aws,omitempty"`
	Service      map[string]any            `json:"service,omitempty"`
	SQL          map[string]any            `json:"sql,omitempty"`
	Annotations  map[string]any            `json:"annotations,omitempty"`
	Metadata     map[string]map[string]any `json:"metadata,omitempty"`
	Subsegments  []Document                `json:"subsegments,omitempty"`
}

// Cause is why a segment failed. X-Ray also accepts a bare exception ID in
// place of the object, pointing at an exception recorded elsewhere; that form
// is kept in ExceptionID.
type Cause struct {
	ExceptionID      string      `json:"exception_id,omitempty"`
	WorkingDirectory string      `json:"working_directory,omitempty"`
	Paths            []string    `json:"paths,omitempty"`
	Exceptions       []Exception `json:"exceptions,omitempty"`
}

// UnmarshalJSON accepts both forms of cause: an object or an exception ID.
func (c *Cause) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		*c = Cause{}
		return json.Unmarshal(b, &c.ExceptionID)
	}
	type plain Cause // without this method, so the default decoding applies
	return json.Unmarshal(b, (*plain)(c))
}

// Exception is one recorded error. Remote is true when the error came from
// the called service rather than from the caller.
type Exception struct {
	ID      string `json:"id,omitempty"`
	Message string `json:"message,omitempty"`
	Type    string `json:"type,omitempty"`
	Remote  bool   `json:"remote,omitempty"`
}

// HTTP is the request and response of a traced HTTP call.
type HTTP struct {
	Request  *HTTPRequest  `json:"request,omitempty"`
	Response *HTTPResponse `json:"response,omitempty"`
}

// HTTPRequest is the traced request; URL has its query stripped by the SDK.
type HTTPRequest struct {
	Method string `json:"method,omitempty"`
	URL    string `json:"url,omitempty"`
}

// HTTPResponse is the traced response.
type HTTPResponse struct {
	Status        int   `json:"status,omitempty"`
	ContentLength int64 `json:"content_length,omitempty"`
}

// Span is one segment or subsegment in the tree the renderer draws, with the
// facts about it already worked out. Times are epoch seconds, as X-Ray keeps
// them.
type Span struct {
	ID         string
	Name       string
	Start, End float64
	// InProgress spans have no end yet; End is then zero.
	InProgress bool
	// Segment is true for a segment (a service's own work), false for a
	// subsegment.
	Segment                bool
	Error, Fault, Throttle bool
	Namespace              string
	// Service and Operation name a remote call: "S3" and "PutObject" for
	// the awsv2 instrumentor, the URL host and the method for HTTP.
	Service, Operation string
	Method             string
	Status             int
	Host               string
	// Origin is the kind of resource a call reached (AWS::S3::Bucket), from
	// the segment X-Ray inferred for it, or a segment's own origin.
	Origin string
	// Inferred is true for a segment X-Ray inferred for a downstream
	// service. Under its calling subsegment it is that call's far end, not
	// a span of its own: the drawing and Summarize skip it, and the caller
	// carries its Origin. One whose caller is missing is a root, drawn.
	Inferred bool
	// Message is the first recorded exception, "Type: message".
	Message     string
	Annotations map[string]any
	Children    []*Span
}

// Remote reports whether the span is a call to another service.
func (s *Span) Remote() bool { return s.Namespace == "aws" || s.Namespace == "remote" }

// Failed reports whether the span carries a fault, error or throttle.
func (s *Span) Failed() bool { return s.Fault || s.Error || s.Throttle }

// Trace is one X-Ray trace: its documents as parsed, and the spans built
// from them. Roots are the segments without a parent in the trace, sorted by
// start time.
type Trace struct {
	ID        string
	Documents []Document
	Roots     []*Span
	// Raw are the documents as BatchGetTraces returned them, for --raw;
	// empty for a trace built with NewTrace.
	Raw []string
}

// ParseTrace parses the documents BatchGetTraces returned for one trace. It
// handles both shapes X-Ray produces: a segment with its subsegments
// embedded, and subsegments sent on their own that come back as documents of
// their own with a parent_id. A document whose parent is not in the trace
// becomes a root, so a partial trace is still drawn.
func ParseTrace(id string, documents []string) (*Trace, error) {
	docs := make([]Document, 0, len(documents))
	for i, raw := range documents {
		var d Document
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return nil, fmt.Errorf("parse document %d of trace %s: %w", i, id, err)
		}
		docs = append(docs, d)
	}
	t := NewTrace(id, docs)
	t.Raw = documents
	return t, nil
}

// NewTrace builds the span tree of already parsed documents.
func NewTrace(id string, docs []Document) *Trace {
	t := &Trace{ID: id, Documents: docs}
	// The same subsegment can arrive twice, once in progress and once
	// complete (the SDK streams early, then the segment embeds it): keep the
	// most finished copy.
	best := make(map[string]int, len(docs))
	for i, d := range docs {
		j, seen := best[d.ID]
		if !seen || better(d, docs[j]) {
			best[d.ID] = i
		}
	}
	index := make(map[string]*Span)
	tops := make([]*Span, 0, len(best))
	parents := make([]string, 0, len(best))
	for i := range docs {
		if best[docs[i].ID] != i {
			continue
		}
		s := build(&docs[i], index, docs[i].Type != "subsegment")
		tops = append(tops, s)
		parents = append(parents, docs[i].ParentID)
	}
	for i, s := range tops {
		if p, ok := index[parents[i]]; ok && parents[i] != "" && p != s {
			if s.Inferred {
				// The downstream node of its call, not a call of its own:
				// drawn and counted once, as the caller, with its origin.
				// It stays in the tree, marked, for exports that keep
				// X-Ray's nodes (OTLP).
				p.Origin = s.Origin
			}
			p.Children = addChild(p.Children, s)
			continue
		}
		t.Roots = append(t.Roots, s)
	}
	sortSpans(t.Roots)
	for _, s := range tops {
		sortTree(s)
	}
	return t
}

func better(a, b Document) bool {
	if a.InProgress != b.InProgress {
		return !a.InProgress
	}
	return a.EndTime > b.EndTime || len(a.Subsegments) > len(b.Subsegments)
}

// build makes the span of a document and of its embedded subsegments;
// segment is true for a segment document (never for an embedded one).
func build(d *Document, index map[string]*Span, segment bool) *Span {
	s := &Span{
		ID:          d.ID,
		Name:        d.Name,
		Start:       d.StartTime,
		End:         d.EndTime,
		InProgress:  d.InProgress || d.EndTime == 0,
		Segment:     segment,
		Error:       d.Error,
		Fault:       d.Fault,
		Throttle:    d.Throttle,
		Namespace:   d.Namespace,
		Origin:      d.Origin,
		Inferred:    d.Inferred,
		Annotations: d.Annotations,
	}
	if s.InProgress {
		s.End = 0
	}
	if op, ok := d.AWS["operation"].(string); ok && op != "" {
		s.Service, s.Operation = d.Name, op
	}
	if d.HTTP != nil {
		if r := d.HTTP.Request; r != nil {
			s.Method = r.Method
			if u, err := url.Parse(r.URL); err == nil {
				s.Host = u.Host
			}
		}
		if r := d.HTTP.Response; r != nil {
			s.Status = r.Status
		}
	}
	if d.Namespace == "remote" && s.Service == "" {
		s.Service = s.Host
		if s.Service == "" {
			s.Service = d.Name
		}
	}
	if d.Cause != nil && len(d.Cause.Exceptions) > 0 {
		e := d.Cause.Exceptions[0]
		switch {
		case e.Type != "" && e.Message != "":
			s.Message = e.Type + ": " + e.Message
		case e.Message != "":
			s.Message = e.Message
		default:
			s.Message = e.Type
		}
	}
	index[d.ID] = s
	if len(d.Subsegments) > 0 {
		s.Children = make([]*Span, 0, len(d.Subsegments))
		for i := range d.Subsegments {
			s.Children = addChild(s.Children, build(&d.Subsegments[i], index, false))
		}
	}
	return s
}

// addChild adds c to children unless a span with its ID is there already,
// keeping the more finished of the two: the X-Ray SDK can embed a streamed
// subsegment twice, and a subsegment sent alone can also come embedded.
func addChild(children []*Span, c *Span) []*Span {
	for i, have := range children {
		if have.ID != c.ID {
			continue
		}
		if have.InProgress && !c.InProgress || !have.InProgress && !c.InProgress && c.End > have.End {
			children[i] = c
		}
		return children
	}
	return append(children, c)
}

func sortTree(s *Span) {
	sortSpans(s.Children)
	for _, c := range s.Children {
		sortTree(c)
	}
}

// sortSpans orders siblings by start, then by name so equal starts are
// drawn the same way every time.
func sortSpans(ss []*Span) {
	sort.SliceStable(ss, func(i, j int) bool {
		if ss[i].Start != ss[j].Start {
			return ss[i].Start < ss[j].Start
		}
		return ss[i].Name < ss[j].Name
	})
}

// Walk calls fn for every span of the trace, parents before children.
func (t *Trace) Walk(fn func(s *Span, depth int)) {
	var walk func(s *Span, depth int)
	walk = func(s *Span, depth int) {
		fn(s, depth)
		for _, c := range s.Children {
			walk(c, depth+1)
		}
	}
	for _, r := range t.Roots {
		walk(r, 0)
	}
}
