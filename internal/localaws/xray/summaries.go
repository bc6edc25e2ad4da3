package xray

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// summariesPageSize is how many summaries a GetTraceSummaries page holds.
// AWS does not document its page size; its pages are of this order.
const summariesPageSize = 100

type getTraceSummariesInput struct {
	StartTime        *float64
	EndTime          *float64
	TimeRangeType    string
	FilterExpression *string
	NextToken        *string
	Sampling         *bool
	SamplingStrategy *struct {
		Name  string
		Value *float64
	}
}

type serviceID struct {
	Name      string
	Names     []string
	Type      string `json:",omitempty"`
	AccountId string `json:",omitempty"`
}

type annotationValue struct {
	StringValue  *string  `json:",omitempty"`
	NumberValue  *float64 `json:",omitempty"`
	BooleanValue *bool    `json:",omitempty"`
}

type valueWithServiceIDs struct {
	AnnotationValue annotationValue
	ServiceIds      []serviceID
}

type httpSummary struct {
	HttpURL    string `json:",omitempty"`
	HttpMethod string `json:",omitempty"`
	HttpStatus *int   `json:",omitempty"`
	UserAgent  string `json:",omitempty"`
	ClientIp   string `json:",omitempty"`
}

type traceSummary struct {
	Id           string
	StartTime    float64
	Duration     float64
	ResponseTime float64
	HasError     bool
	HasFault     bool
	HasThrottle  bool
	IsPartial    bool
	Http         *httpSummary `json:",omitempty"`
	Annotations  map[string][]valueWithServiceIDs
	ServiceIds   []serviceID
	EntryPoint   *serviceID `json:",omitempty"`
	Revision     int32
}

type getTraceSummariesOutput struct {
	TraceSummaries       []traceSummary
	ApproximateTime      float64
	TracesProcessedCount int64
	NextToken            string `json:",omitempty"`
}

// cursor is where a page ended: the last trace returned, in the descending
// (epoch, id) order pages are read in.
type cursor struct {
	epoch int64
	id    string
}

func encodeCursor(c cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.epoch, 10) + ":" + c.id))
}

func decodeCursor(tok string) (cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return cursor{}, false
	}
	e, id, ok := strings.Cut(string(b), ":")
	epoch, err := strconv.ParseInt(e, 10, 64)
	return cursor{epoch, id}, ok && err == nil
}

func anyIn(times []float64, from, to float64) bool {
	for _, t := range times {
		if t >= from && t <= to {
			return true
		}
	}
	return false
}

// sampled picks a stable share of traces for Sampling with a FixedRate
// strategy: the same trace is always in or out.
func sampled(id string, rate float64) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return float64(h.Sum32())/math.MaxUint32 < rate
}

// readFresh brings changed traces' summaries up to date and read-locks the
// store; the caller read-unlocks it. A document stored between the two may
// be missed by this read, as X-Ray's own reads lag its writes.
func (s *Service) readFresh() {
	s.mu.Lock()
	s.store.flush()
	s.mu.Unlock()
	s.mu.RLock()
}

func (s *Service) getTraceSummaries(r *http.Request) (any, error) {
	var in getTraceSummariesInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return s.traceSummaries(in)
}

func (s *Service) traceSummaries(in getTraceSummariesInput) (*getTraceSummariesOutput, error) {
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalidRequest("StartTime and EndTime are required")
	}
	from, to := *in.StartTime, *in.EndTime
	if to < from {
		return nil, invalidRequest("EndTime %v is before StartTime %v", to, from)
	}
	switch in.TimeRangeType {
	case "", "TraceId", "Event", "Service":
	default:
		return nil, invalidRequest("TimeRangeType %q is not one of TraceId, Event, Service", in.TimeRangeType)
	}
	match := func(*summary) bool { return true }
	if in.FilterExpression != nil && strings.TrimSpace(*in.FilterExpression) != "" {
		p, err := parseFilter(*in.FilterExpression)
		if err != nil {
			return nil, invalidRequest("%v", err)
		}
		match = p
	}
	rate := 1.0
	if in.Sampling != nil && *in.Sampling && in.SamplingStrategy != nil &&
		in.SamplingStrategy.Name == "FixedRate" && in.SamplingStrategy.Value != nil {
		rate = *in.SamplingStrategy.Value
	}
	after := cursor{epoch: math.MaxInt64}
	if in.NextToken != nil && *in.NextToken != "" {
		c, ok := decodeCursor(*in.NextToken)
		if !ok {
			return nil, invalidRequest("NextToken %q is not a token this operation returned", *in.NextToken)
		}
		after = c
	}

	s.readFresh()
	defer s.mu.RUnlock()
	var candidates []*trace
	if in.TimeRangeType == "" || in.TimeRangeType == "TraceId" {
		// A trace ID's epoch is whole seconds: the trace started within
		// that second.
		candidates = s.window(int64(math.Floor(from)), int64(math.Floor(to)))
	} else {
		candidates = s.byEpoch
	}
	out := &getTraceSummariesOutput{TraceSummaries: []traceSummary{}, ApproximateTime: secs(s.env.Clock.Now())}
	for i := len(candidates) - 1; i >= 0; i-- {
		t := candidates[i]
		if !t.less(after.epoch, after.id) {
			continue
		}
		if len(out.TraceSummaries) == summariesPageSize {
			// More traces are left to read: the next page starts below
			// the last one returned.
			last := out.TraceSummaries[summariesPageSize-1].Id
			out.NextToken = encodeCursor(cursor{traceEpoch(last), last})
			break
		}
		out.TracesProcessedCount++
		switch in.TimeRangeType {
		case "Event":
			if !anyIn(t.sum.eventTimes, from, to) {
				continue
			}
		case "Service":
			if !anyIn(t.sum.endTimes, from, to) {
				continue
			}
		}
		if rate < 1 && !sampled(t.id, rate) {
			continue
		}
		if match(&t.sum) {
			out.TraceSummaries = append(out.TraceSummaries, t.summaryOut())
		}
	}
	return out, nil
}

func (t *trace) summaryOut() traceSummary {
	sum := &t.sum
	svc := func(f *serviceFacts) serviceID {
		return serviceID{Name: f.name, Names: []string{f.name}, Type: f.typ}
	}
	out := traceSummary{
		Id:           t.id,
		StartTime:    sum.start,
		Duration:     sum.duration,
		ResponseTime: sum.responseTime,
		HasError:     sum.err,
		HasFault:     sum.fault,
		HasThrottle:  sum.throttle,
		IsPartial:    sum.partial,
		Annotations:  map[string][]valueWithServiceIDs{},
		ServiceIds:   []serviceID{},
		Revision:     t.revision,
	}
	for i := range sum.services {
		out.ServiceIds = append(out.ServiceIds, svc(&sum.services[i]))
	}
	if sum.entry >= 0 {
		e := svc(&sum.services[sum.entry])
		out.EntryPoint = &e
	}
	if h := sum.http; h != (httpFacts{}) {
		out.Http = &httpSummary{HttpURL: h.url, HttpMethod: h.method, UserAgent: h.userAgent, ClientIp: h.clientIP}
		if h.hasStatus {
			st := h.status
			out.Http.HttpStatus = &st
		}
	}
	for _, ak := range sum.annotations {
		k := ak.key
		for _, a := range ak.values {
			var v annotationValue
			switch x := a.value.(type) {
			case string:
				v.StringValue = &x
			case float64:
				v.NumberValue = &x
			case bool:
				v.BooleanValue = &x
			}
			ids := []serviceID{}
			for _, name := range a.services {
				if f := sum.service(name); f != nil {
					ids = append(ids, svc(f))
				} else {
					ids = append(ids, serviceID{Name: name, Names: []string{name}})
				}
			}
			out.Annotations[k] = append(out.Annotations[k], valueWithServiceIDs{AnnotationValue: v, ServiceIds: ids})
		}
	}
	return out
}

type batchGetTracesInput struct {
	TraceIds  []string
	NextToken *string
}

type segmentOut struct {
	Id       string
	Document string
}

type traceOut struct {
	Id            string
	Duration      float64
	LimitExceeded bool
	Segments      []segmentOut
}

func (s *Service) batchGetTraces(r *http.Request) (any, error) {
	var in batchGetTracesInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.TraceIds) < 1 || len(in.TraceIds) > 5 {
		return nil, invalidRequest("TraceIds must hold 1 to 5 trace IDs, not %d", len(in.TraceIds))
	}
	out := struct {
		Traces              []traceOut
		UnprocessedTraceIds []string
	}{Traces: []traceOut{}, UnprocessedTraceIds: []string{}}
	s.readFresh()
	defer s.mu.RUnlock()
	for _, id := range in.TraceIds {
		t := s.traces[id]
		if t == nil {
			out.UnprocessedTraceIds = append(out.UnprocessedTraceIds, id)
			continue
		}
		segs, err := t.segments()
		if err != nil {
			return nil, err
		}
		out.Traces = append(out.Traces, traceOut{Id: t.id, Duration: t.sum.duration, Segments: segs})
	}
	return out, nil
}

// segments are the trace's segment documents with every subsegment that was
// sent on its own put back under its parent, as X-Ray returns them. A
// subsegment whose parent never arrived stays a document of its own.
func (t *trace) segments() ([]segmentOut, error) {
	var loose []*document
	for _, d := range t.docs {
		if d.subsegment {
			loose = append(loose, d)
		}
	}
	if len(loose) == 0 {
		out := make([]segmentOut, 0, len(t.docs))
		for _, d := range t.docs {
			out = append(out, segmentOut{Id: d.id, Document: string(d.raw)})
		}
		return out, nil
	}
	trees := map[string]map[string]any{} // document id → its decoded JSON
	for _, d := range t.docs {
		dec := json.NewDecoder(bytes.NewReader(d.raw))
		dec.UseNumber() // numbers come back as they were sent
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode stored segment %s: %w", d.id, err)
		}
		trees[d.id] = m
	}
	placed := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, d := range loose {
			if placed[d.id] {
				continue
			}
			for _, root := range t.docs {
				if root == d || placed[root.id] {
					continue
				}
				// The SDK may send a subsegment on its own and again
				// inside its segment: keep one copy, the later one.
				if same := findNode(trees[root.id], d.id); same != nil {
					subs := same["subsegments"]
					clear(same)
					for k, v := range trees[d.id] {
						same[k] = v
					}
					if _, ok := same["subsegments"]; !ok && subs != nil {
						same["subsegments"] = subs
					}
					placed[d.id] = true
					changed = true
					break
				}
				if parent := findNode(trees[root.id], d.parentID); parent != nil {
					subs, _ := parent["subsegments"].([]any)
					parent["subsegments"] = append(subs, trees[d.id])
					placed[d.id] = true
					changed = true
					break
				}
			}
		}
	}
	out := []segmentOut{}
	for _, d := range t.docs {
		if placed[d.id] {
			continue
		}
		doc := string(d.raw)
		if tree := trees[d.id]; tree != nil {
			b, err := json.Marshal(tree)
			if err != nil {
				return nil, fmt.Errorf("encode segment %s: %w", d.id, err)
			}
			doc = string(b)
		}
		out = append(out, segmentOut{Id: d.id, Document: doc})
	}
	return out, nil
}

// findNode finds the segment or subsegment with the id in a decoded
// document.
func findNode(m map[string]any, id string) map[string]any {
	if m == nil {
		return nil
	}
	if m["id"] == id {
		return m
	}
	subs, _ := m["subsegments"].([]any)
	for _, sub := range subs {
		if sm, ok := sub.(map[string]any); ok {
			if found := findNode(sm, id); found != nil {
				return found
			}
		}
	}
	return nil
}
