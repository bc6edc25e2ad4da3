package xray

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// MaxDocumentSize is the largest segment document X-Ray accepts, and so the
// largest datagram the daemon takes (header included).
const MaxDocumentSize = 64 * 1024

var (
	traceIDPattern   = awsproto.Pattern(`^1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}$`)
	segmentIDPattern = awsproto.Pattern(`^[0-9a-fA-F]{16}$`)
)

// segDoc is the part of a segment or subsegment document the stand-in
// reads; the document itself is kept byte for byte for BatchGetTraces.
type segDoc struct {
	Name        string         `json:"name"`
	ID          string         `json:"id"`
	TraceID     string         `json:"trace_id"`
	ParentID    string         `json:"parent_id"`
	Type        string         `json:"type"`
	StartTime   *float64       `json:"start_time"`
	EndTime     *float64       `json:"end_time"`
	InProgress  bool           `json:"in_progress"`
	Origin      string         `json:"origin"`
	Namespace   string         `json:"namespace"`
	Error       bool           `json:"error"`
	Fault       bool           `json:"fault"`
	Throttle    bool           `json:"throttle"`
	HTTP        *httpDoc       `json:"http"`
	Annotations map[string]any `json:"annotations"`
	Subsegments []segDoc       `json:"subsegments"`
}

type httpDoc struct {
	Request struct {
		Method    string `json:"method"`
		URL       string `json:"url"`
		UserAgent string `json:"user_agent"`
		ClientIP  string `json:"client_ip"`
	} `json:"request"`
	Response struct {
		Status *float64 `json:"status"`
	} `json:"response"`
}

func (d *segDoc) isSubsegment() bool { return d.Type == "subsegment" }

// callsOut says whether the document or one of its subsegments calls an
// AWS or remote service (namespace aws or remote).
func (d *segDoc) callsOut() bool {
	if d.isSubsegment() && callNamespace(d.Namespace) {
		return true
	}
	for i := range d.Subsegments {
		if callNamespace(d.Subsegments[i].Namespace) || d.Subsegments[i].callsOut() {
			return true
		}
	}
	return false
}

func callNamespace(ns string) bool {
	ns = strings.ToLower(ns)
	return ns == "aws" || ns == "remote"
}

// SegmentError is why X-Ray refused a segment document, as it reports it in
// UnprocessedTraceSegments: the document's id when it could be read, an
// error code in X-Ray's spelling (MissingId, InvalidName), and a message.
type SegmentError struct {
	ID      string
	Code    string
	Message string
}

// Error says why the document was refused.
func (e *SegmentError) Error() string { return e.Code + ": " + e.Message }

// parseDocument reads and validates one document as X-Ray does.
func parseDocument(doc []byte) (*segDoc, error) {
	if len(doc) > MaxDocumentSize {
		return nil, &SegmentError{Code: "SegmentTooLarge", Message: fmt.Sprintf("Invalid segment. ErrorCode: SegmentTooLarge, Cause: %d bytes is over the %d byte limit", len(doc), MaxDocumentSize)}
	}
	var d segDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		// Keep the id for the caller when the document is JSON of the
		// wrong shape.
		var idOnly struct {
			ID any `json:"id"`
		}
		_ = json.Unmarshal(doc, &idOnly)
		id, _ := idOnly.ID.(string)
		return nil, &SegmentError{ID: id, Code: "InvalidSegment", Message: "Invalid segment. ErrorCode: InvalidSegment, Cause: " + err.Error()}
	}
	kind := "segment"
	if d.isSubsegment() {
		kind = "subsegment"
	}
	fail := func(code, cause string) error {
		return &SegmentError{ID: d.ID, Code: code, Message: fmt.Sprintf("Invalid %s. ErrorCode: %s, Cause: %s", kind, code, cause)}
	}
	switch {
	case d.ID == "":
		return nil, fail("MissingId", "id is required")
	case !segmentIDPattern().MatchString(d.ID):
		return nil, fail("InvalidId", fmt.Sprintf("id %q is not 16 hexadecimal digits", d.ID))
	case d.Name == "":
		return nil, fail("MissingName", "name is required")
	case !validName(d.Name):
		return nil, fail("InvalidName", fmt.Sprintf("name %q must be 1 to 200 letters, digits, white space or _ . : / %% & # = + \\ - @", d.Name))
	case d.TraceID == "":
		return nil, fail("MissingTraceId", "trace_id is required")
	case !traceIDPattern().MatchString(d.TraceID):
		return nil, fail("InvalidTraceId", fmt.Sprintf("trace_id %q is not 1-<8 hex digits>-<24 hex digits>", d.TraceID))
	case d.StartTime == nil:
		return nil, fail("MissingStartTime", "start_time is required")
	case d.EndTime == nil && !d.InProgress:
		return nil, fail("MissingEndTime", "end_time is required unless in_progress is true")
	case d.EndTime != nil && *d.EndTime < *d.StartTime:
		return nil, fail("InvalidEndTime", "end_time is before start_time")
	case d.Type != "" && d.Type != "subsegment":
		return nil, fail("InvalidType", fmt.Sprintf("type %q is not subsegment", d.Type))
	case d.isSubsegment() && d.ParentID == "":
		return nil, fail("MissingParentId", "a subsegment sent on its own needs parent_id")
	case d.ParentID != "" && !segmentIDPattern().MatchString(d.ParentID):
		return nil, fail("InvalidParentId", fmt.Sprintf("parent_id %q is not 16 hexadecimal digits", d.ParentID))
	}
	return &d, nil
}

// validName keeps X-Ray's rule for segment names: 1 to 200 Unicode letters,
// digits and white space, and the symbols _ . : / % & # = + \ - @.
func validName(name string) bool {
	n := 0
	for _, r := range name {
		n++
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) {
			continue
		}
		switch r {
		case '_', '.', ':', '/', '%', '&', '#', '=', '+', '\\', '-', '@':
			continue
		}
		return false
	}
	return n >= 1 && n <= 200
}

// traceEpoch is the epoch second in a valid trace ID.
func traceEpoch(traceID string) int64 {
	v, _ := strconv.ParseInt(traceID[2:10], 16, 64)
	return v
}

// Ingest stores one segment or subsegment document, as the daemon forwards
// it. A document that repeats an id replaces the stored one (an in-progress
// segment completed later), except that an in-progress document never
// replaces a complete one that arrived first. A refused document's error is
// a *SegmentError.
func (s *Service) Ingest(doc []byte) error {
	if err := s.ingest(doc); err != nil {
		return err
	}
	s.daemon.update(func() { s.daemon.docs++ })
	return nil
}

// ingest stores a document without counting it; the daemon counts it
// together with its datagram counters.
func (s *Service) ingest(doc []byte) error {
	d, err := parseDocument(doc)
	if err != nil {
		return err
	}
	raw := append([]byte(nil), doc...)
	s.mu.Lock()
	toLogs := s.transactionSearch()
	now := s.env.Clock.Now()
	s.store.put(d, raw, arrival{at: now, inLogs: toLogs, indexedBy: now.Add(-s.cfg.IndexDelay), indexed: s.indexes})
	s.mu.Unlock()
	if toLogs && s.cfg.Spans != nil {
		s.writeSpans(d)
	}
	return nil
}

type putTraceSegmentsInput struct {
	TraceSegmentDocuments []string
}

type unprocessedSegment struct {
	Id        string `json:",omitempty"`
	ErrorCode string
	Message   string
}

func (s *Service) putTraceSegments(r *http.Request) (any, error) {
	var in putTraceSegmentsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.TraceSegmentDocuments == nil {
		return nil, invalidRequest("TraceSegmentDocuments is required")
	}
	unprocessed := []unprocessedSegment{}
	for _, doc := range in.TraceSegmentDocuments {
		if err := s.Ingest([]byte(doc)); err != nil {
			se, ok := err.(*SegmentError)
			if !ok {
				return nil, awsproto.AsError(err)
			}
			unprocessed = append(unprocessed, unprocessedSegment{Id: se.ID, ErrorCode: se.Code, Message: se.Message})
		}
	}
	return struct{ UnprocessedTraceSegments []unprocessedSegment }{unprocessed}, nil
}
