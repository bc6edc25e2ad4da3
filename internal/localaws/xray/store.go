package xray

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// store keeps every trace in memory, in a map by ID and in a slice sorted by
// the epoch in the trace ID, so a time window query reads only its window.
type store struct {
	traces  map[string]*trace
	byEpoch []*trace // ascending (epoch, id)
	// dirty are traces of several documents whose summary is computed
	// again before the next query, not on every document: a long job
	// streams thousands of subsegments into one trace.
	dirty []*trace
}

func newStore() store { return store{traces: map[string]*trace{}} }

// trace is one trace's documents and the summary computed from them.
type trace struct {
	id    string
	epoch int64
	docs  []*document // in order of first arrival
	// byID indexes docs by document id once there are several, so a
	// trace of thousands of streamed subsegments stores each in O(1).
	byID     map[string]int
	revision int32
	sum      summary
	dirty    bool
	// indexed is decided when the first document arrives: whether the
	// trace gets a summary (every trace in X-Ray mode, the indexing
	// rule's share in CloudWatch Logs mode).
	indexed bool
	// first is when the first document arrived.
	first time.Time
}

// document is one stored document: its bytes, and what storing and
// merging need to know without parsing it again.
type document struct {
	raw        []byte
	id         string
	parentID   string
	subsegment bool
	inProgress bool
	// start and end are the document's times (end 0 while in progress).
	start, end float64
	// arrived is when the document was stored; it is indexed IndexDelay
	// later.
	arrived time.Time
	// inLogs says the document was also written to aws/spans, where trace
	// retrievals read.
	inLogs bool
	// prev is the version this document replaced, read in its place
	// until this one is indexed.
	prev *document
	// calls says the document holds a subsegment that calls an AWS or
	// remote service, for which BatchGetTraces adds an inferred segment.
	calls bool
	// seg is the parsed document, kept only in traces of several
	// documents, which are summarized again as they change. Most traces
	// are one segment and keep only the bytes.
	seg *segDoc
}

// version is the latest version of the document that keep keeps, or nil.
func (d *document) version(keep func(*document) bool) *document {
	for d != nil && !keep(d) {
		d = d.prev
	}
	return d
}

func (t *trace) less(epoch int64, id string) bool {
	return t.epoch < epoch || t.epoch == epoch && t.id < id
}

// arrival is how a document came in: when, whether it also went to
// aws/spans, and (for a new trace) whether the trace is indexed.
type arrival struct {
	at     time.Time
	inLogs bool
	// indexedBy is the latest arrival indexed at this moment.
	indexedBy time.Time
	indexed   func(traceID string) bool
}

// put adds or replaces a validated document. A trace of one document is
// summarized at once; a trace of several, at the next flush.
func (st *store) put(d *segDoc, raw []byte, a arrival) {
	t := st.traces[d.TraceID]
	if t == nil {
		t = &trace{id: d.TraceID, epoch: traceEpoch(d.TraceID), indexed: a.indexed(d.TraceID), first: a.at}
		st.traces[t.id] = t
		// Traces mostly arrive in epoch order, so this is nearly always an
		// append.
		i := sort.Search(len(st.byEpoch), func(i int) bool { return !st.byEpoch[i].less(t.epoch, t.id) })
		st.byEpoch = slices.Insert(st.byEpoch, i, t)
	}
	doc := &document{raw: raw, id: d.ID, parentID: d.ParentID, subsegment: d.isSubsegment(), inProgress: d.InProgress,
		arrived: a.at, inLogs: a.inLogs, calls: d.callsOut(), start: *d.StartTime}
	if d.EndTime != nil {
		doc.end = *d.EndTime
	}
	i := -1
	if t.byID != nil {
		if j, ok := t.byID[d.ID]; ok {
			i = j
		}
	} else {
		i = slices.IndexFunc(t.docs, func(old *document) bool { return old.id == d.ID })
	}
	switch {
	case i < 0:
		t.docs = append(t.docs, doc)
		switch {
		case t.byID != nil:
			t.byID[d.ID] = len(t.docs) - 1
		case len(t.docs) > 1:
			t.byID = map[string]int{}
			for j, old := range t.docs {
				t.byID[old.id] = j
			}
		}
	case !t.docs[i].inProgress && d.InProgress:
		return
	default:
		// Until the new version is indexed, readers see the one before.
		old := t.docs[i]
		if !old.arrived.After(a.indexedBy) {
			old.prev = nil // indexed already: older versions are never read
		}
		doc.prev = old
		t.docs[i] = doc
	}
	t.revision++
	if len(t.docs) == 1 {
		t.sum = summarize([]*segDoc{d})
		return
	}
	doc.seg = d
	if !t.dirty {
		t.dirty = true
		st.dirty = append(st.dirty, t)
	}
}

// flush computes the summaries of the traces changed since the last flush.
func (st *store) flush() {
	for _, t := range st.dirty {
		parsed := make([]*segDoc, len(t.docs))
		for i, doc := range t.docs {
			if doc.seg == nil {
				doc.seg = &segDoc{}
				// Stored documents were valid JSON when they came in.
				_ = json.Unmarshal(doc.raw, doc.seg)
			}
			parsed[i] = doc.seg
		}
		t.sum = summarize(parsed)
		t.dirty = false
	}
	st.dirty = nil
}

// window returns the traces whose epoch lies in [from, to], ascending.
func (st *store) window(from, to int64) []*trace {
	lo := sort.Search(len(st.byEpoch), func(i int) bool { return st.byEpoch[i].epoch >= from })
	hi := sort.Search(len(st.byEpoch), func(i int) bool { return st.byEpoch[i].epoch > to })
	return st.byEpoch[lo:hi]
}

// summary is what GetTraceSummaries reports of a trace and what filter
// expressions ask of it, computed once per ingested document.
type summary struct {
	start, end   float64
	duration     float64
	responseTime float64
	hasResponse  bool // the root segment is complete, so responseTime is known
	err          bool
	fault        bool
	throttle     bool
	partial      bool
	http         httpFacts
	entry        int // index in services of the root segment's service, or -1
	services     []serviceFacts
	annotations  []annotationKey // sorted by key; a trace has a handful
	// eventTimes are every document's start and end times; endTimes
	// only the ends: TimeRangeType Event and Service select by them.
	eventTimes []float64
	endTimes   []float64
}

type httpFacts struct {
	url, method, userAgent, clientIP string
	status                           int
	hasStatus                        bool
}

// serviceFacts is one node of the trace: a segment's service, or an AWS or
// remote service a subsegment called.
type serviceFacts struct {
	name, typ            string
	err, fault, throttle bool
	responseTime         float64
}

type annotationKey struct {
	key    string
	values []annotation
}

// annotation is one distinct value of an annotation key and the services
// that recorded it. value is a string, float64 or bool.
type annotation struct {
	value    any
	services []string
}

func (s *summary) service(name string) *serviceFacts {
	for i := range s.services {
		if s.services[i].name == name {
			return &s.services[i]
		}
	}
	return nil
}

func (s *summary) addService(name, typ string) *serviceFacts {
	if f := s.service(name); f != nil {
		return f
	}
	s.services = append(s.services, serviceFacts{name: name, typ: typ})
	return &s.services[len(s.services)-1]
}

func (s *summary) annotate(key string, value any, service string) {
	switch value.(type) {
	case string, bool, float64:
	default:
		return // X-Ray indexes only strings, numbers and booleans.
	}
	i := slices.IndexFunc(s.annotations, func(a annotationKey) bool { return a.key == key })
	if i < 0 {
		s.annotations = append(s.annotations, annotationKey{key: key})
		i = len(s.annotations) - 1
	}
	vals := s.annotations[i].values
	for j := range vals {
		if vals[j].value == value {
			if !slices.Contains(vals[j].services, service) {
				vals[j].services = append(vals[j].services, service)
			}
			return
		}
	}
	s.annotations[i].values = append(vals, annotation{value: value, services: []string{service}})
}

// annotation is the values of an annotation key, or nil.
func (s *summary) annotation(key string) []annotation {
	for i := range s.annotations {
		if s.annotations[i].key == key {
			return s.annotations[i].values
		}
	}
	return nil
}

// summarize computes a trace's summary from its documents. Subsegments sent
// on their own belong to the service of the segment they hang under.
func summarize(docs []*segDoc) summary {
	s := summary{start: math.Inf(1), end: math.Inf(-1), entry: -1}
	owner := map[string]string{} // every segment and subsegment id → its service
	var walkIDs func(d *segDoc, service string)
	walkIDs = func(d *segDoc, service string) {
		owner[d.ID] = service
		for i := range d.Subsegments {
			walkIDs(&d.Subsegments[i], service)
		}
	}
	for _, d := range docs {
		if !d.isSubsegment() {
			walkIDs(d, d.Name)
		}
	}
	// Resolve subsegments sent alone; one may hang under another, so
	// repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, d := range docs {
			if !d.isSubsegment() {
				continue
			}
			if _, done := owner[d.ID]; done {
				continue
			}
			if svc, ok := owner[d.ParentID]; ok {
				walkIDs(d, svc)
				changed = true
			}
		}
	}

	var root *segDoc
	for _, d := range docs {
		service, ok := owner[d.ID]
		if !ok {
			s.partial = true // its parent never arrived
			service = d.Name
		}
		if !d.isSubsegment() {
			f := s.addService(d.Name, d.Origin)
			f.err = f.err || d.Error
			f.fault = f.fault || d.Fault
			f.throttle = f.throttle || d.Throttle
			if d.EndTime != nil {
				f.responseTime = math.Max(f.responseTime, *d.EndTime-*d.StartTime)
			}
			if root == nil || betterRoot(d, root) {
				root = d
			}
		}
		s.eventTimes = append(s.eventTimes, *d.StartTime)
		if d.EndTime != nil {
			s.eventTimes = append(s.eventTimes, *d.EndTime)
			s.endTimes = append(s.endTimes, *d.EndTime)
		}
		s.walk(d, service)
	}
	if s.start > s.end {
		s.end = s.start
	}
	s.duration = s.end - s.start
	if root != nil {
		s.entry = slices.IndexFunc(s.services, func(f serviceFacts) bool { return f.name == root.Name })
		if root.EndTime != nil {
			s.responseTime, s.hasResponse = *root.EndTime-*root.StartTime, true
		}
		if h := root.HTTP; h != nil {
			s.http = httpFacts{url: h.Request.URL, method: h.Request.Method, userAgent: h.Request.UserAgent, clientIP: h.Request.ClientIP}
			if h.Response.Status != nil {
				s.http.status, s.http.hasStatus = int(*h.Response.Status), true
			}
		}
	}
	slices.SortFunc(s.annotations, func(a, b annotationKey) int { return strings.Compare(a.key, b.key) })
	return s
}

// walk folds one segment or subsegment and its subsegments into the summary.
func (s *summary) walk(d *segDoc, service string) {
	if d.StartTime != nil {
		s.start = math.Min(s.start, *d.StartTime)
		s.end = math.Max(s.end, *d.StartTime)
	}
	if d.EndTime != nil {
		s.end = math.Max(s.end, *d.EndTime)
	}
	s.partial = s.partial || d.InProgress
	s.err = s.err || d.Error
	s.fault = s.fault || d.Fault
	s.throttle = s.throttle || d.Throttle
	for k, v := range d.Annotations {
		s.annotate(k, v, service)
	}
	// A subsegment that calls AWS or a remote service adds that service's
	// node to the trace, as X-Ray's service map does.
	if ns := strings.ToLower(d.Namespace); ns == "aws" || ns == "remote" {
		typ := "remote"
		if ns == "aws" {
			typ = awsOrigin(d.Name, nil)
		}
		f := s.addService(d.Name, typ)
		f.err = f.err || d.Error
		f.fault = f.fault || d.Fault
		f.throttle = f.throttle || d.Throttle
		if d.StartTime != nil && d.EndTime != nil {
			f.responseTime = math.Max(f.responseTime, *d.EndTime-*d.StartTime)
		}
	}
	for i := range d.Subsegments {
		s.walk(&d.Subsegments[i], service)
	}
}

// betterRoot says whether a is more likely the trace's entry segment than
// b: a segment with no parent, else the earliest.
func betterRoot(a, b *segDoc) bool {
	if (a.ParentID == "") != (b.ParentID == "") {
		return a.ParentID == ""
	}
	return *a.StartTime < *b.StartTime
}
