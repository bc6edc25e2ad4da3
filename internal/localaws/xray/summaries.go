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
	now := s.env.Clock.Now()
	out := &getTraceSummariesOutput{TraceSummaries: []traceSummary{}, ApproximateTime: secs(now)}
	for i := len(candidates) - 1; i >= 0; i-- {
		t := candidates[i]
		if !t.less(after.epoch, after.id) {
			continue
		}
		// A trace is summarized once its first documents are indexed;
		// in CloudWatch Logs mode only the indexing rule's share is.
		if !t.indexed || now.Before(t.first.Add(s.cfg.IndexDelay)) {
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
	cutoff := s.env.Clock.Now().Add(-s.cfg.IndexDelay)
	for _, id := range in.TraceIds {
		t := s.traces[id]
		if t == nil || !t.indexed {
			out.UnprocessedTraceIds = append(out.UnprocessedTraceIds, id)
			continue
		}
		segs, err := t.segments(func(d *document) bool { return !d.arrived.After(cutoff) })
		if err != nil {
			return nil, err
		}
		if len(segs) == 0 {
			// Not indexed yet.
			out.UnprocessedTraceIds = append(out.UnprocessedTraceIds, id)
			continue
		}
		out.Traces = append(out.Traces, traceOut{Id: t.id, Duration: t.sum.duration, Segments: segs})
	}
	return out, nil
}

// segments are the trace's documents that keep keeps (for a document
// replaced, the latest version kept), with every
// subsegment that was sent on its own put back under its parent, as X-Ray
// returns them, followed by the inferred segments X-Ray adds for the AWS
// and remote services that subsegments call. A subsegment whose parent
// never arrived stays a document of its own.
func (t *trace) segments(keep func(*document) bool) ([]segmentOut, error) {
	var docs, loose []*document
	calls := false
	for _, d := range t.docs {
		if d = d.version(keep); d == nil {
			continue
		}
		docs = append(docs, d)
		if d.subsegment {
			loose = append(loose, d)
		}
		calls = calls || d.calls
	}
	if len(loose) == 0 && !calls {
		out := make([]segmentOut, 0, len(docs))
		for _, d := range docs {
			out = append(out, segmentOut{Id: d.id, Document: string(d.raw)})
		}
		return out, nil
	}
	trees := map[string]map[string]any{} // document id → its decoded JSON
	for _, d := range docs {
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
			for _, root := range docs {
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
	var inferred []map[string]any
	for _, d := range docs {
		if placed[d.id] {
			continue
		}
		tree := trees[d.id]
		inferred = appendInferred(inferred, t.id, tree, d.subsegment)
		b, err := json.Marshal(tree)
		if err != nil {
			return nil, fmt.Errorf("encode segment %s: %w", d.id, err)
		}
		out = append(out, segmentOut{Id: d.id, Document: string(b)})
	}
	for _, inf := range inferred {
		b, err := json.Marshal(inf)
		if err != nil {
			return nil, fmt.Errorf("encode inferred segment: %w", err)
		}
		out = append(out, segmentOut{Id: inf["id"].(string), Document: string(b)})
	}
	return out, nil
}

// inferredFields are the fields an inferred segment copies from the
// subsegment that called its service.
var inferredFields = []string{"name", "start_time", "end_time", "in_progress", "http", "aws", "error", "fault", "throttle", "cause"}

// appendInferred adds an inferred segment for every subsegment under node
// (and node itself when it is a subsegment) that calls an AWS or remote
// service: X-Ray's downstream node of the call, with the call's times and
// its http and aws fields, parent_id the calling subsegment and an origin
// naming the AWS resource type.
func appendInferred(out []map[string]any, traceID string, node map[string]any, isSub bool) []map[string]any {
	if ns, _ := node["namespace"].(string); isSub && callNamespace(ns) {
		id, _ := node["id"].(string)
		inf := map[string]any{"id": inferredID(traceID, id), "parent_id": id, "inferred": true, "trace_id": traceID}
		for _, k := range inferredFields {
			if v, ok := node[k]; ok {
				inf[k] = v
			}
		}
		if strings.EqualFold(ns, "aws") {
			name, _ := node["name"].(string)
			fields, _ := node["aws"].(map[string]any)
			inf["origin"] = awsOrigin(name, fields)
		}
		out = append(out, inf)
	}
	subs, _ := node["subsegments"].([]any)
	for _, sub := range subs {
		if m, ok := sub.(map[string]any); ok {
			out = appendInferred(out, traceID, m, true)
		}
	}
	return out
}

// inferredID is a stable segment ID for the inferred segment of a call,
// so that every read of the trace returns the same document.
func inferredID(traceID, callID string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(traceID))
	_, _ = h.Write([]byte(callID))
	return fmt.Sprintf("%016x", h.Sum64())
}

// awsOrigin is the resource type X-Ray names the service an AWS SDK
// subsegment called: from the resource the subsegment names (table_name,
// bucket_name, queue_url, topic_arn), else from the service's name.
func awsOrigin(name string, fields map[string]any) string {
	for key, origin := range map[string]string{
		"table_name":  "AWS::DynamoDB::Table",
		"bucket_name": "AWS::S3::Bucket",
		"queue_url":   "AWS::SQS::Queue",
		"topic_arn":   "AWS::SNS::Topic",
	} {
		if _, ok := fields[key]; ok {
			return origin
		}
	}
	switch strings.ToLower(name) {
	case "dynamodb":
		return "AWS::DynamoDB::Table"
	case "s3":
		return "AWS::S3::Bucket"
	case "sqs":
		return "AWS::SQS::Queue"
	case "sns":
		return "AWS::SNS::Topic"
	case "kinesis":
		return "AWS::Kinesis::Stream"
	case "lambda":
		return "AWS::Lambda"
	}
	return "AWS::" + name
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
