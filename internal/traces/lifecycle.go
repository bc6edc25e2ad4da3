package traces

import (
	"sort"
	"time"
)

// Batch job states, as Batch spells them.
const (
	StateSubmitted = "SUBMITTED"
	StatePending   = "PENDING"
	StateRunnable  = "RUNNABLE"
	StateStarting  = "STARTING"
	StateRunning   = "RUNNING"
	StateSucceeded = "SUCCEEDED"
	StateFailed    = "FAILED"
)

// StateQueued names the time between submission and start when Batch's
// individual transitions were not observed.
const StateQueued = "queued"

// Job is what the drawing needs to know about a Batch job, in this package's
// own terms so the renderer does not depend on the Batch SDK: the command
// maps Batch's JobDetail to it. Zero times are unknown.
type Job struct {
	ID           string    `json:"jobId"`
	Name         string    `json:"jobName,omitempty"`
	Queue        string    `json:"jobQueue,omitempty"`
	Status       string    `json:"status,omitempty"`
	StatusReason string    `json:"statusReason,omitempty"`
	CreatedAt    time.Time `json:"createdAt,omitzero"`
	StartedAt    time.Time `json:"startedAt,omitzero"`
	StoppedAt    time.Time `json:"stoppedAt,omitzero"`
	Attempts     []Attempt `json:"attempts,omitempty"`
	// Transitions are state changes someone watched happen (status polls
	// them); Batch itself keeps only createdAt, startedAt and stoppedAt.
	Transitions []Transition `json:"transitions,omitempty"`
	// ArraySize is the size of an array parent, zero otherwise.
	ArraySize int `json:"arraySize,omitempty"`
	// ArrayIndex is set on an array child.
	ArrayIndex *int `json:"arrayIndex,omitempty"`
}

// Attempt is one run of the job's container.
type Attempt struct {
	StartedAt time.Time `json:"startedAt,omitzero"`
	StoppedAt time.Time `json:"stoppedAt,omitzero"`
	ExitCode  *int      `json:"exitCode,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// Transition is the moment a job was seen entering a state.
type Transition struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// Phase is a stretch of one attempt spent in one state. Open phases had not
// ended at the time of drawing; End is then the drawing's clock.
type Phase struct {
	State string    `json:"state"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Open  bool      `json:"open,omitempty"`
}

// Outcome of an attempt.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeRunning   = "running"
	OutcomeWaiting   = "waiting"
)

// Track is the lifecycle of one attempt: from submission (or the end of the
// previous attempt) to the attempt's end.
type Track struct {
	Attempt  int     `json:"attempt"`
	Phases   []Phase `json:"phases"`
	Outcome  string  `json:"outcome"`
	ExitCode *int    `json:"exitCode,omitempty"`
	Reason   string  `json:"reason,omitempty"`
}

// Start is when the track begins.
func (t Track) Start() time.Time { return t.Phases[0].Start }

// End is when the track ends, or the clock if it has not.
func (t Track) End() time.Time { return t.Phases[len(t.Phases)-1].End }

// Terminal reports whether the job has finished.
func (j Job) Terminal() bool { return j.Status == StateSucceeded || j.Status == StateFailed }

// End is when the job stopped, or now if it has not.
func (j Job) End(now time.Time) time.Time {
	switch {
	case !j.StoppedAt.IsZero():
		return j.StoppedAt
	case j.Terminal() && len(j.Attempts) > 0 && !j.Attempts[len(j.Attempts)-1].StoppedAt.IsZero():
		return j.Attempts[len(j.Attempts)-1].StoppedAt
	}
	return now
}

// Started is when the job first ran: its first attempt's start, since
// Batch's own startedAt moves to the latest attempt on a retry.
func (j Job) Started() time.Time {
	for _, a := range j.Attempts {
		if !a.StartedAt.IsZero() {
			return a.StartedAt
		}
	}
	return j.StartedAt
}

// Lifecycle returns one track per attempt, built from the observed
// transitions when there are any, else from Batch's timestamps: the time
// before an attempt started is "queued" and the attempt itself RUNNING. A job
// waiting for a retry gets a track for the attempt to come.
func (j Job) Lifecycle(now time.Time) []Track {
	if j.CreatedAt.IsZero() {
		return nil
	}
	attempts := j.Attempts
	if len(attempts) == 0 && !j.StartedAt.IsZero() {
		attempts = []Attempt{{StartedAt: j.StartedAt, StoppedAt: j.StoppedAt}}
	}
	last := len(attempts) - 1
	if last < 0 || (!j.Terminal() && !attempts[last].StoppedAt.IsZero()) {
		attempts = append(attempts[:len(attempts):len(attempts)], Attempt{})
		last++
	}
	tracks := make([]Track, 0, len(attempts))
	from := j.CreatedAt
	for i, a := range attempts {
		end := a.StoppedAt
		open := end.IsZero()
		if open {
			end = j.End(now)
			open = !j.Terminal()
		}
		if end.Before(from) {
			end = from
		}
		t := Track{Attempt: i + 1, ExitCode: a.ExitCode, Reason: a.Reason}
		t.Phases = j.phases(from, a.StartedAt, end, open)
		switch {
		case open && a.StartedAt.IsZero():
			t.Outcome = OutcomeWaiting
		case open:
			t.Outcome = OutcomeRunning
		case a.ExitCode != nil && *a.ExitCode == 0,
			a.ExitCode == nil && i == last && j.Status == StateSucceeded:
			t.Outcome = OutcomeSucceeded
		default:
			t.Outcome = OutcomeFailed
		}
		tracks = append(tracks, t)
		from = end
	}
	return tracks
}

// sortedTransitions are the transitions in time order, whatever order the
// caller kept them in.
func (j Job) sortedTransitions() []Transition {
	ts := append([]Transition(nil), j.Transitions...)
	sort.SliceStable(ts, func(a, b int) bool { return ts[a].At.Before(ts[b].At) })
	return ts
}

// phases splits [from, end] of one attempt into states.
func (j Job) phases(from, started, end time.Time, open bool) []Phase {
	var ps []Phase
	add := func(state string, s, e time.Time) {
		if e.Before(s) {
			e = s
		}
		if n := len(ps); n > 0 && ps[n-1].State == state {
			ps[n-1].End = e
			return
		}
		ps = append(ps, Phase{State: state, Start: s, End: e})
	}
	var seen []Transition
	for _, tr := range j.sortedTransitions() {
		if !tr.At.Before(from) && tr.At.Before(end) && tr.State != StateSucceeded && tr.State != StateFailed {
			seen = append(seen, tr)
		}
	}
	if len(seen) > 0 {
		if seen[0].At.After(from) {
			add(StateQueued, from, seen[0].At)
		}
		for i, tr := range seen {
			e := end
			if i+1 < len(seen) {
				e = seen[i+1].At
			}
			add(tr.State, tr.At, e)
		}
	} else {
		switch {
		case started.IsZero():
			add(StateQueued, from, end)
		default:
			if started.After(from) {
				add(StateQueued, from, started)
			}
			add(StateRunning, started, end)
		}
	}
	ps[len(ps)-1].Open = open
	return ps
}
