package traces

import (
	"sort"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
)

// StateQueued names the time between submission and start when Batch's
// individual transitions were not observed.
const StateQueued jobs.State = "queued"

// Phase is a stretch of one attempt spent in one state. Open phases had not
// ended at the time of drawing; End is then the drawing's clock.
type Phase struct {
	State jobs.State `json:"state"`
	Start time.Time  `json:"start"`
	End   time.Time  `json:"end"`
	Open  bool       `json:"open,omitempty"`
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

// Lifecycle returns one track per attempt of j, built from the observed
// transitions when there are any, else from Batch's timestamps: the time
// before an attempt started is "queued" and the attempt itself RUNNING. A job
// waiting for a retry gets a track for the attempt to come. An attempt's
// reason is its container's, or Batch's when the container gave none.
func Lifecycle(j jobs.Job, now time.Time) []Track {
	if j.CreatedAt.IsZero() {
		return nil
	}
	attempts := j.Attempts
	if len(attempts) == 0 && !j.StartedAt.IsZero() {
		attempts = []jobs.Attempt{{StartedAt: j.StartedAt, StoppedAt: j.StoppedAt}}
	}
	last := len(attempts) - 1
	if last < 0 || (!j.Status.Terminal() && !attempts[last].StoppedAt.IsZero()) {
		attempts = append(attempts[:len(attempts):len(attempts)], jobs.Attempt{})
		last++
	}
	tracks := make([]Track, 0, len(attempts))
	from := j.CreatedAt
	for i, a := range attempts {
		end := a.StoppedAt
		open := end.IsZero()
		if open {
			end = j.End(now)
			open = !j.Status.Terminal()
		}
		if end.Before(from) {
			end = from
		}
		t := Track{Attempt: i + 1, ExitCode: a.ExitCode, Reason: a.Reason}
		if t.Reason == "" {
			t.Reason = a.StatusReason
		}
		t.Phases = phases(j, from, a.StartedAt, end, open)
		switch {
		case open && a.StartedAt.IsZero():
			t.Outcome = OutcomeWaiting
		case open:
			t.Outcome = OutcomeRunning
		case a.ExitCode != nil && *a.ExitCode == 0,
			a.ExitCode == nil && i == last && j.Status == jobs.Succeeded:
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
func sortedTransitions(j jobs.Job) []jobs.Transition {
	ts := append([]jobs.Transition(nil), j.Transitions...)
	sort.SliceStable(ts, func(a, b int) bool { return ts[a].At.Before(ts[b].At) })
	return ts
}

// phases splits [from, end] of one attempt into states.
func phases(j jobs.Job, from, started, end time.Time, open bool) []Phase {
	var ps []Phase
	add := func(state jobs.State, s, e time.Time) {
		if e.Before(s) {
			e = s
		}
		if n := len(ps); n > 0 && ps[n-1].State == state {
			ps[n-1].End = e
			return
		}
		ps = append(ps, Phase{State: state, Start: s, End: e})
	}
	var seen []jobs.Transition
	for _, tr := range sortedTransitions(j) {
		if !tr.At.Before(from) && tr.At.Before(end) && !tr.State.Terminal() {
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
			add(jobs.Running, started, end)
		}
	}
	ps[len(ps)-1].Open = open
	return ps
}
