package events_test

import (
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
)

// The events delivered so far replace what polling saw up to them; what
// polling saw after the last one is kept, and a repeated state counts once.
func TestApplyKeepsWhatPollingSawAfterTheEvents(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	j := &jobs.Job{ID: "a", Transitions: []jobs.Transition{
		{State: jobs.Submitted, At: at(0)}, {State: jobs.Runnable, At: at(3)}, {State: jobs.Starting, At: at(9)}, {State: jobs.Running, At: at(11)},
	}}
	events.Apply(j, []events.Change{
		{JobID: "a", State: jobs.Runnable, At: at(1), StatusReason: "waiting"},
		{JobID: "a", State: jobs.Runnable, At: at(1)},
		{JobID: "a", State: jobs.Starting, At: at(8)},
	})
	want := []jobs.Transition{{State: jobs.Runnable, At: at(1), Reason: "waiting"}, {State: jobs.Starting, At: at(8)}, {State: jobs.Running, At: at(11)}}
	if len(j.Transitions) != len(want) {
		t.Fatalf("transitions %+v, want %+v", j.Transitions, want)
	}
	for i := range want {
		if j.Transitions[i] != want[i] {
			t.Errorf("transition %d = %+v, want %+v", i, j.Transitions[i], want[i])
		}
	}
	if !j.FromEvents {
		t.Error("FromEvents not set")
	}
}
