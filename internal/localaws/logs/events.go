package logs

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// PutLogEvents' documented limits.
const (
	maxBatchEvents = 10000
	maxBatchBytes  = 1048576
	eventOverhead  = 26 // bytes counted for each event on top of its message
	maxEventBytes  = 1 << 20
	maxSpan        = 24 * time.Hour
	maxFuture      = 2 * time.Hour
	maxPast        = 14 * 24 * time.Hour
	// maxResponseBytes caps a GetLogEvents or FilterLogEvents page, as
	// CloudWatch Logs fills a page up to 1 MB.
	maxResponseBytes = 1 << 20
)

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsInput struct {
	LogGroupName  string          `json:"logGroupName"`
	LogStreamName string          `json:"logStreamName"`
	LogEvents     []inputLogEvent `json:"logEvents"`
}

type rejectedLogEventsInfo struct {
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
}

func (s *Service) putLogEvents(in putLogEventsInput) (any, error) {
	n := len(in.LogEvents)
	if n < 1 || n > maxBatchEvents {
		return nil, invalidParameter("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and %d", maxBatchEvents)
	}
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil || e.Message == nil {
			return nil, invalidParameter("1 validation error detected: Value null at 'logEvents.%d.member' failed to satisfy constraint: timestamp and message must not be null", i+1)
		}
		if len(*e.Message) < 1 || len(*e.Message) > maxEventBytes {
			return nil, invalidParameter("Log event %d: the message must be 1 to %d bytes, it is %d.", i, maxEventBytes, len(*e.Message))
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(*e.Message) + eventOverhead
	}
	if size > maxBatchBytes {
		return nil, invalidParameter("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, "")
	if err != nil {
		return nil, err
	}
	st, ok := g.streams[in.LogStreamName]
	if !ok {
		return nil, notFound("The specified log stream does not exist.")
	}

	// Events outside the windows are rejected one by one; the rest must
	// span at most 24 hours or the whole call fails. The batch is sorted, so
	// the rejected ones sit at its two ends.
	now := s.env.Clock.Now()
	tooOld := now.Add(-maxPast).UnixMilli()
	expired := int64(math.MinInt64)
	if g.retention > 0 {
		expired = now.Add(-time.Duration(g.retention) * 24 * time.Hour).UnixMilli()
	}
	tooNew := now.Add(maxFuture).UnixMilli()
	var info rejectedLogEventsInfo
	first, end := 0, n
	for first < n && (*in.LogEvents[first].Timestamp < tooOld || *in.LogEvents[first].Timestamp < expired) {
		first++
	}
	for end > first && *in.LogEvents[end-1].Timestamp > tooNew {
		end--
	}
	if first > 0 {
		// The old end is split between "older than 14 days" and "older than
		// the retention", as CloudWatch Logs reports each range.
		old, exp := -1, -1
		for i, e := range in.LogEvents[:first] {
			if *e.Timestamp < tooOld {
				old = i
			}
			if *e.Timestamp < expired {
				exp = i
			}
		}
		if old >= 0 {
			info.TooOldLogEventEndIndex = &old
		}
		if exp >= 0 {
			info.ExpiredLogEventEndIndex = &exp
		}
	}
	if end < n {
		e := end
		info.TooNewLogEventStartIndex = &e
	}
	if first < end && time.Duration(*in.LogEvents[end-1].Timestamp-*in.LogEvents[first].Timestamp)*time.Millisecond > maxSpan {
		return nil, invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	for _, e := range in.LogEvents[first:end] {
		s.appendEvent(st, *e.Timestamp, *e.Message, now.UnixMilli())
	}
	out := struct {
		NextSequenceToken     string                 `json:"nextSequenceToken"`
		RejectedLogEventsInfo *rejectedLogEventsInfo `json:"rejectedLogEventsInfo,omitempty"`
	}{NextSequenceToken: fmt.Sprintf("%056d", s.seq)}
	if info != (rejectedLogEventsInfo{}) {
		out.RejectedLogEventsInfo = &info
	}
	return out, nil
}

type outputLogEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

type getLogEventsInput struct {
	LogGroupName       string `json:"logGroupName"`
	LogGroupIdentifier string `json:"logGroupIdentifier"`
	LogStreamName      string `json:"logStreamName"`
	StartTime          *int64 `json:"startTime"`
	EndTime            *int64 `json:"endTime"`
	Limit              *int   `json:"limit"`
	NextToken          string `json:"nextToken"`
	StartFromHead      bool   `json:"startFromHead"`
}

var (
	beforeAll = key{math.MinInt64, 0}
	afterAll  = key{math.MaxInt64, 0}
)

// A GetLogEvents token is a direction and a position: "f/<ts>/<seq>" reads
// the events after that key, "b/<ts>/<seq>" those before it.
func eventToken(dir string, k key) string { return fmt.Sprintf("%s/%d/%d", dir, k.ts, k.seq) }

func parseEventToken(tok string) (forward bool, k key, err error) {
	parts := strings.Split(tok, "/")
	if len(parts) == 3 && (parts[0] == "f" || parts[0] == "b") {
		ts, err1 := strconv.ParseInt(parts[1], 10, 64)
		seq, err2 := strconv.ParseInt(parts[2], 10, 64)
		if err1 == nil && err2 == nil {
			return parts[0] == "f", key{ts, seq}, nil
		}
	}
	return false, key{}, invalidParameter("The specified nextToken is invalid.")
}

func inWindow(ts int64, start, end *int64) bool {
	return (start == nil || ts >= *start) && (end == nil || ts < *end)
}

func (s *Service) getLogEvents(in getLogEventsInput) (any, error) {
	limit := maxBatchEvents
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > maxBatchEvents {
			return nil, invalidParameter("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *in.Limit, maxBatchEvents)
		}
		limit = *in.Limit
	}
	forward, cursor := in.StartFromHead, afterAll
	if forward {
		cursor = beforeAll
	}
	if in.NextToken != "" {
		var err error
		if forward, cursor, err = parseEventToken(in.NextToken); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	st, ok := g.streams[in.LogStreamName]
	if !ok {
		return nil, notFound("The specified log stream does not exist.")
	}

	var picked []event
	size := 0
	take := func(e event) bool {
		if len(picked) == limit || len(picked) > 0 && size+len(e.message)+eventOverhead > maxResponseBytes {
			return false
		}
		size += len(e.message) + eventOverhead
		picked = append(picked, e)
		return true
	}
	if forward {
		for _, e := range st.events {
			if cursor.less(e.key) && inWindow(e.ts, in.StartTime, in.EndTime) && !take(e) {
				break
			}
		}
	} else {
		for i := len(st.events) - 1; i >= 0; i-- {
			e := st.events[i]
			if e.less(cursor) && inWindow(e.ts, in.StartTime, in.EndTime) && !take(e) {
				break
			}
		}
		slices.Reverse(picked)
	}

	out := struct {
		Events            []outputLogEvent `json:"events"`
		NextForwardToken  string           `json:"nextForwardToken"`
		NextBackwardToken string           `json:"nextBackwardToken"`
	}{Events: []outputLogEvent{}}
	for _, e := range picked {
		out.Events = append(out.Events, outputLogEvent{e.ts, e.message, e.ingested})
	}
	if len(picked) == 0 {
		// At the end of the stream CloudWatch Logs hands back the token it
		// was given, which is how a reader knows it has caught up.
		out.NextForwardToken, out.NextBackwardToken = eventToken("f", cursor), eventToken("b", cursor)
		if in.NextToken != "" {
			if forward {
				out.NextForwardToken = in.NextToken
			} else {
				out.NextBackwardToken = in.NextToken
			}
		}
		return out, nil
	}
	out.NextForwardToken = eventToken("f", picked[len(picked)-1].key)
	out.NextBackwardToken = eventToken("b", picked[0].key)
	return out, nil
}

type filterLogEventsInput struct {
	LogGroupName        string   `json:"logGroupName"`
	LogGroupIdentifier  string   `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       string   `json:"filterPattern"`
	Limit               *int     `json:"limit"`
	NextToken           string   `json:"nextToken"`
}

type filteredLogEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

type searchedLogStream struct {
	LogStreamName      string `json:"logStreamName"`
	SearchedCompletely bool   `json:"searchedCompletely"`
}

func (s *Service) filterLogEvents(in filterLogEventsInput) (any, error) {
	if len(in.LogStreamNames) > 0 && in.LogStreamNamePrefix != "" {
		return nil, invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	if len(in.LogStreamNames) > 100 {
		return nil, invalidParameter("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	limit := maxBatchEvents
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > maxBatchEvents {
			return nil, invalidParameter("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", *in.Limit, maxBatchEvents)
		}
		limit = *in.Limit
	}
	match, err := compilePattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	after := beforeAll
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, invalidParameter("The specified nextToken is invalid.")
		}
		if _, after, err = parseEventToken(string(b)); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.group(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	var streams []*logStream
	if len(in.LogStreamNames) > 0 {
		for _, name := range in.LogStreamNames {
			st, ok := g.streams[name]
			if !ok {
				return nil, notFound("The specified log stream does not exist.")
			}
			streams = append(streams, st)
		}
	} else {
		for _, st := range g.streams {
			if strings.HasPrefix(st.name, in.LogStreamNamePrefix) {
				streams = append(streams, st)
			}
		}
	}

	var all []filteredLogEvent
	var keys []key
	searched := []searchedLogStream{}
	for _, st := range streams {
		searched = append(searched, searchedLogStream{st.name, true})
		for _, e := range st.events {
			if after.less(e.key) && inWindow(e.ts, in.StartTime, in.EndTime) && match(e.message) {
				all = append(all, filteredLogEvent{st.name, e.ts, e.message, e.ingested, fmt.Sprintf("%056d", e.seq)})
				keys = append(keys, e.key)
			}
		}
	}
	// Interleave the streams by time; seq breaks ties, and it is unique
	// across the service, so the order is total and the token exact.
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case keys[a].less(keys[b]):
			return -1
		case keys[b].less(keys[a]):
			return 1
		}
		return 0
	})
	out := struct {
		Events             []filteredLogEvent  `json:"events"`
		SearchedLogStreams []searchedLogStream `json:"searchedLogStreams"`
		NextToken          string              `json:"nextToken,omitempty"`
	}{Events: []filteredLogEvent{}, SearchedLogStreams: searched}
	size := 0
	for n, i := range idx {
		e := all[i]
		if len(out.Events) == limit || len(out.Events) > 0 && size+len(e.Message)+eventOverhead > maxResponseBytes {
			last := keys[idx[n-1]]
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(eventToken("f", last)))
			break
		}
		size += len(e.Message) + eventOverhead
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// compilePattern turns a filter pattern into a matcher. It keeps the
// unstructured-text forms: terms that must all appear ("ERROR timeout"),
// quoted phrases ("\"connection reset\""), terms of which one must appear
// ("?ERROR ?WARN"), and terms that must not ("-DEBUG"). Matching is case
// sensitive, as in CloudWatch Logs. JSON ({ $.x = 1 }) and space-delimited
// ([a, b]) patterns are not implemented.
func compilePattern(p string) (func(string) bool, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return func(string) bool { return true }, nil
	}
	if strings.HasPrefix(p, "{") || strings.HasPrefix(p, "[") {
		return nil, awsproto.Errorf(http.StatusNotImplemented, "NotImplemented",
			"batchxray local does not implement JSON or space-delimited filter patterns: %s", p)
	}
	var all, any, none []string
	for rest := p; rest != ""; rest = strings.TrimLeft(rest, " \t") {
		prefix := ""
		if rest[0] == '?' || rest[0] == '-' {
			prefix, rest = rest[:1], rest[1:]
		}
		var term string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, invalidParameter("Invalid filter pattern: unterminated quote in %s", p)
			}
			term, rest = rest[1:end+1], rest[end+2:]
		} else {
			end := strings.IndexAny(rest, " \t")
			if end < 0 {
				end = len(rest)
			}
			term, rest = rest[:end], rest[end:]
		}
		switch prefix {
		case "?":
			any = append(any, term)
		case "-":
			none = append(none, term)
		default:
			all = append(all, term)
		}
	}
	return func(msg string) bool {
		for _, t := range all {
			if !strings.Contains(msg, t) {
				return false
			}
		}
		for _, t := range none {
			if strings.Contains(msg, t) {
				return false
			}
		}
		if len(any) == 0 {
			return true
		}
		for _, t := range any {
			if strings.Contains(msg, t) {
				return true
			}
		}
		return false
	}, nil
}
