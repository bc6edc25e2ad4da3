package events

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Batch's job state change event, as EventBridge documents it.
const (
	batchSource     = "aws.batch"
	batchDetailType = "Batch Job State Change"
)

// JobStateChange puts Batch's "Batch Job State Change" event for one
// transition on the default bus: detail is the job's JobDetail as
// DescribeJobs returns it, at when the job entered the state. The event
// reaches the targets of the enabled rules it matches after the delivery
// delay. It is the hook the stand-in's Batch calls.
func (s *Service) JobStateChange(at time.Time, jobARN string, detail []byte) {
	ev := map[string]any{
		"version":     "0",
		"id":          newEventID(),
		"detail-type": batchDetailType,
		"source":      batchSource,
		"account":     s.env.Account,
		"time":        at.UTC().Format("2006-01-02T15:04:05Z"),
		"region":      s.env.Region,
		"resources":   []any{jobARN},
		"detail":      json.RawMessage(detail),
	}
	s.put(ev)
}

// put matches an event against the rules and schedules its delivery.
func (s *Service) put(ev map[string]any) {
	msg, err := json.Marshal(ev)
	if err != nil {
		return
	}
	// Patterns match the event as its targets see it.
	var view map[string]any
	if err := json.Unmarshal(msg, &view); err != nil {
		return
	}
	s.mu.Lock()
	var groups []string
	for _, r := range s.rules {
		if r.state != "ENABLED" || r.match == nil || !r.match(view) {
			continue
		}
		for _, t := range r.targets {
			if g, ok := s.logGroup(t.Arn); ok {
				groups = append(groups, g)
			}
		}
	}
	s.mu.Unlock()
	if len(groups) == 0 || s.cfg.Logs == nil {
		return
	}
	at, _ := time.Parse(time.RFC3339, view["time"].(string))
	id := view["id"].(string)
	s.env.Clock.AfterFunc(s.cfg.Delay, func() {
		for _, g := range groups {
			// A delivery the log group refuses is dropped, as EventBridge
			// counts it in FailedInvocations and moves on.
			if err := s.cfg.Logs.DeliverAs("events.amazonaws.com", g, id, at, string(msg)); err != nil {
				s.env.Logger.Debug("event not delivered", "group", g, "err", err)
			}
		}
	})
}

// logGroup is the log group a CloudWatch Logs target's ARN names.
func (s *Service) logGroup(arn string) (string, bool) {
	name, ok := strings.CutPrefix(arn, s.env.ARN("logs", s.env.Region, "log-group:"))
	return strings.TrimSuffix(name, ":*"), ok
}

func newEventID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
