package logs

import (
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's CloudWatch Logs.
type Service struct {
	awsproto.JSON
	env awsproto.Env

	mu       sync.Mutex
	groups   map[string]*logGroup
	policies map[string]*resourcePolicy // by name
	// seq orders events stored in the same millisecond and numbers them for
	// FilterLogEvents' eventId; it only grows.
	seq int64
}

type logGroup struct {
	name      string
	created   time.Time
	retention int // days; 0 means never expire
	class     string
	tags      map[string]string
	streams   map[string]*logStream
}

type logStream struct {
	name    string
	created time.Time
	// events are sorted by (timestamp, seq), as CloudWatch Logs keeps a
	// stream whatever order the batches arrived in.
	events        []event
	lastIngestion int64
	storedBytes   int64
}

type event struct {
	key
	message  string
	ingested int64
}

// key is an event's position in its stream; tokens carry one.
type key struct {
	ts  int64 // milliseconds since the epoch
	seq int64
}

func (k key) less(o key) bool { return k.ts < o.ts || k.ts == o.ts && k.seq < o.seq }

// New returns an empty CloudWatch Logs.
func New(env awsproto.Env) *Service {
	s := &Service{env: env, groups: map[string]*logGroup{}, policies: map[string]*resourcePolicy{}}
	s.JSON = awsproto.JSON{Name: "logs", Ops: s.operations()}
	return s
}

// operations are CloudWatch Logs' operations by name.
func (s *Service) operations() map[string]func([]byte) (any, error) {
	return map[string]func([]byte) (any, error){
		"CreateLogGroup":           awsproto.Decoded(s.createLogGroup),
		"DescribeLogGroups":        awsproto.Decoded(s.describeLogGroups),
		"DeleteLogGroup":           awsproto.Decoded(s.deleteLogGroup),
		"CreateLogStream":          awsproto.Decoded(s.createLogStream),
		"DescribeLogStreams":       awsproto.Decoded(s.describeLogStreams),
		"DeleteLogStream":          awsproto.Decoded(s.deleteLogStream),
		"PutRetentionPolicy":       awsproto.Decoded(s.putRetentionPolicy),
		"DeleteRetentionPolicy":    awsproto.Decoded(s.deleteRetentionPolicy),
		"TagResource":              awsproto.Decoded(s.tagResource),
		"UntagResource":            awsproto.Decoded(s.untagResource),
		"ListTagsForResource":      awsproto.Decoded(s.listTagsForResource),
		"TagLogGroup":              awsproto.Decoded(s.tagLogGroup),
		"UntagLogGroup":            awsproto.Decoded(s.untagLogGroup),
		"ListTagsLogGroup":         awsproto.Decoded(s.listTagsLogGroup),
		"PutLogEvents":             awsproto.Decoded(s.putLogEvents),
		"GetLogEvents":             awsproto.Decoded(s.getLogEvents),
		"FilterLogEvents":          awsproto.Decoded(s.filterLogEvents),
		"PutResourcePolicy":        awsproto.Decoded(s.putResourcePolicy),
		"DescribeResourcePolicies": awsproto.Decoded(s.describeResourcePolicies),
		"DeleteResourcePolicy":     awsproto.Decoded(s.deleteResourcePolicy),
	}
}

func invalidParameter(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidParameterException", format, a...)
}

func notFound(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "ResourceNotFoundException", format, a...)
}

func limitExceeded(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "LimitExceededException", format, a...)
}

func accessDenied(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "AccessDeniedException", format, a...)
}

func alreadyExists(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "ResourceAlreadyExistsException", format, a...)
}

// Write appends one event to a stream, creating the group and the stream
// when they are missing, as the awslogs driver does for a job's output. It
// skips PutLogEvents' time windows: the caller is the stand-in itself.
func (s *Service) Write(group, stream string, at time.Time, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	g, ok := s.groups[group]
	if !ok {
		g = &logGroup{name: group, created: now, class: "STANDARD", tags: map[string]string{}, streams: map[string]*logStream{}}
		s.groups[group] = g
	}
	st, ok := g.streams[stream]
	if !ok {
		st = &logStream{name: stream, created: now}
		g.streams[stream] = st
	}
	s.appendEvent(st, at.UnixMilli(), message, now.UnixMilli())
}

// appendEvent stores one event in order. The caller holds s.mu.
func (s *Service) appendEvent(st *logStream, ts int64, message string, ingested int64) {
	s.seq++
	e := event{key: key{ts, s.seq}, message: message, ingested: ingested}
	// Nearly always the newest: append. An older event goes after the
	// last one with its timestamp or an earlier one.
	i := len(st.events)
	if i > 0 && e.less(st.events[i-1].key) {
		i = sort.Search(len(st.events), func(j int) bool { return e.less(st.events[j].key) })
	}
	st.events = slices.Insert(st.events, i, e)
	st.lastIngestion = ingested
	st.storedBytes += int64(len(message))
}
