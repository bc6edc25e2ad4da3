package events

import (
	"net/http"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// DefaultDelay is how long an event takes to reach its targets.
const DefaultDelay = 500 * time.Millisecond

// Logs is where events for CloudWatch Logs targets go: one event a stream,
// written as the service events.amazonaws.com.
type Logs interface {
	DeliverAs(service, group, stream string, at time.Time, message string) error
}

// Config wires the service to the rest of the stand-in.
type Config struct {
	// Logs receives the events for log group targets (nil: dropped).
	Logs Logs
	// Delay is how long delivery takes (default DefaultDelay).
	Delay time.Duration
}

// Service is the stand-in's EventBridge.
type Service struct {
	awsproto.JSON
	env awsproto.Env
	cfg Config

	mu    sync.Mutex
	rules map[string]*rule // by name, on the default bus
}

type rule struct {
	name, arn, pattern, schedule, state, description, roleARN string
	match                                                     func(map[string]any) bool
	targets                                                   []target
	tags                                                      map[string]string
}

// New returns an EventBridge with no rules.
func New(env awsproto.Env, cfg Config) *Service {
	if cfg.Delay <= 0 {
		cfg.Delay = DefaultDelay
	}
	s := &Service{env: env, cfg: cfg, rules: map[string]*rule{}}
	s.JSON = awsproto.JSON{Name: "events", Ops: map[string]func([]byte) (any, error){
		"PutRule":             awsproto.Decoded(s.putRule),
		"DescribeRule":        awsproto.Decoded(s.describeRule),
		"DeleteRule":          awsproto.Decoded(s.deleteRule),
		"PutTargets":          awsproto.Decoded(s.putTargets),
		"RemoveTargets":       awsproto.Decoded(s.removeTargets),
		"ListTargetsByRule":   awsproto.Decoded(s.listTargetsByRule),
		"TagResource":         awsproto.Decoded(s.tagResource),
		"UntagResource":       awsproto.Decoded(s.untagResource),
		"ListTagsForResource": awsproto.Decoded(s.listTagsForResource),
	}}
	return s
}

func validation(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "ValidationException", format, a...)
}

func notFound(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "ResourceNotFoundException", format, a...)
}

func invalidPattern(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidEventPatternException", "Event pattern is not valid. Reason: "+format, a...)
}

func limitExceeded(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "LimitExceededException", format, a...)
}
