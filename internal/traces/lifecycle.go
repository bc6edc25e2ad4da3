package traces

import (
	"context"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
)

// StateQueued names time the job spent in no state known to jobs.Job.Spans:
// waiting before it started, in states nobody saw.
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
	Attempt int `json:"attempt"`
	// StatesFrom names where the phases come from: "events" (Batch's
	// recorded job events, each state apart) or "DescribeJobs" (its
	// timestamps, the states before RUNNING merged into queued where
	// polling did not see them).
	StatesFrom string  `json:"statesFrom"`
	Phases     []Phase `json:"phases"`
	Outcome    string  `json:"outcome"`
	ExitCode   *int    `json:"exitCode,omitempty"`
	Reason     string  `json:"reason,omitempty"`
}

// Start is when the track begins.
func (t Track) Start() time.Time { return t.Phases[0].Start }

// End is when the track ends, or the clock if it has not.
func (t Track) End() time.Time { return t.Phases[len(t.Phases)-1].End }

// Lifecycle returns one track per attempt of j: its spans (jobs.Job.Spans,
// the one rule for how long a job was in each state) cut at the attempts'
// ends, with the time in no known state queued. A job waiting for a retry
// gets a track for the attempt to come. An attempt's reason is its
// container's, or Batch's when the container gave none.
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
	spans := j.StateSpans()
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
		t := Track{Attempt: i + 1, StatesFrom: j.StatesFrom(), ExitCode: a.ExitCode, Reason: a.Reason}
		if t.Reason == "" {
			t.Reason = jobs.Interrupted(a, a.StatusReason)
		}
		t.Phases = phases(spans, from, end, open)
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

// phases splits [from, end] of one attempt into the states of spans, the
// job's states as jobs works them out from Batch's timestamps and the
// transitions seen. Time in no span (before the job was first seen, or all
// of it when nothing was seen) is queued. A terminal span begins where the
// job ends, so it has no time to draw.
func phases(spans []jobs.StateSpan, from, end time.Time, open bool) []Phase {
	var ps []Phase
	add := func(state jobs.State, s, e time.Time) {
		if n := len(ps); n > 0 && ps[n-1].State == state {
			ps[n-1].End = e
			return
		}
		ps = append(ps, Phase{State: state, Start: s, End: e})
	}
	at := from
	for _, sp := range spans {
		start, stop := sp.Start, sp.End
		if stop.IsZero() || stop.After(end) {
			stop = end
		}
		if start.Before(at) {
			start = at
		}
		if sp.State.Terminal() || !stop.After(start) {
			continue
		}
		if start.After(at) {
			add(StateQueued, at, start)
		}
		add(sp.State, start, stop)
		at = stop
	}
	if at.Before(end) || len(ps) == 0 {
		add(StateQueued, at, end)
	}
	ps[len(ps)-1].Open = open
	return ps
}

// fillHistory fills in the transitions of the view's job and children from
// h, in one call so an array is read by its parent's ID. A record that
// cannot be read leaves the figures from DescribeJobs, which the drawing
// then names as their source.
func fillHistory(ctx context.Context, h jobs.History, v *View) {
	if h == nil {
		return
	}
	_ = h.Fill(ctx, v.jobs())
}

// nameInterruptions names the attempts whose host was terminated as status
// does (jobs.NameInterruptions): a Spot interruption on a SPOT compute
// environment. It needs the queue and environment calls, so a client
// without them, or a lookup that fails, leaves "host terminated".
func nameInterruptions(ctx context.Context, bc jobs.WaitAPI, v *View) {
	if c, ok := bc.(jobs.ExplainAPI); ok {
		_ = jobs.NameInterruptions(ctx, c, v.jobs())
	}
}

// jobs are the view's job and its children's, to be filled in place.
func (v *View) jobs() []*jobs.Job {
	js := make([]*jobs.Job, 0, 1+len(v.Children))
	js = append(js, &v.Job)
	for i := range v.Children {
		js = append(js, &v.Children[i].Job)
	}
	return js
}
