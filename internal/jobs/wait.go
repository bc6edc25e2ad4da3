package jobs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/waiter"
)

// Default poll delays. The delay starts at DefaultMinDelay and goes back
// to it after every poll that saw a change (a state, an attempt, an array's
// counts), so a job is seen to end soon after it does; it doubles only
// while nothing changes, up to DefaultMaxDelay, which bounds how late an
// end is seen: 4 s at most, 2 s on average, plus a call. A job that runs
// for an hour without a change costs 15 rounds a minute, 900 an hour, each
// ceil(N/100) DescribeJobs calls for N jobs followed (the 20 s cap this
// replaced cost 180 an hour and saw an end up to 20 s late).
const (
	DefaultMinDelay = 500 * time.Millisecond
	DefaultMaxDelay = 4 * time.Second
)

// WaitOptions shape Wait, as the SDK's waiters are shaped.
type WaitOptions struct {
	// MinDelay is the delay after a poll that saw a change (default
	// DefaultMinDelay); while nothing changes it doubles up to MaxDelay
	// (default DefaultMaxDelay).
	MinDelay time.Duration
	MaxDelay time.Duration
	// MaxWait bounds the whole wait; it is required. When it runs out, Wait
	// returns a *waiter.TimeoutError.
	MaxWait time.Duration
	// Clock is what Wait reads the time from and sleeps on (default the
	// real clock); tests inject a fake one.
	Clock clockwork.Clock
	// Sleep waits between polls (default Sleep on Clock); benchmarks
	// replace it to jump a fake clock to the next poll at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnTransition is called for every state change seen, the first
	// sighting of each job included, in the order they were seen.
	OnTransition func(j *Job)
	// OnPoll is called after each round of polls with every job followed,
	// for progress output.
	OnPoll func(jobs []*Job, now time.Time)
}

// FailedError is the typed terminal failure: at least one job FAILED.
type FailedError struct {
	// Jobs are the jobs that failed.
	Jobs []*Job
}

func (e *FailedError) Error() string {
	if len(e.Jobs) == 1 {
		j := e.Jobs[0]
		msg := fmt.Sprintf("job %s (%s) FAILED", j.Name, j.ID)
		if r := FailureReason(j); r != "" {
			msg += ": " + r
		}
		return msg
	}
	names := make([]string, len(e.Jobs))
	for i, j := range e.Jobs {
		names[i] = j.Name + " (" + j.ID + ")"
	}
	return fmt.Sprintf("%d jobs FAILED: %s", len(e.Jobs), strings.Join(names, ", "))
}

// JobFailed marks the error for exit code 3.
func (e *FailedError) JobFailed() bool { return true }

// FailureReason says in a few words why a job failed: the last attempt's
// exit code and reason, or Batch's status reason.
func FailureReason(j *Job) string {
	var parts []string
	if n := len(j.Attempts); n > 0 {
		a := j.Attempts[n-1]
		if a.ExitCode != nil {
			parts = append(parts, fmt.Sprintf("exit code %d", *a.ExitCode))
		}
		if a.Reason != "" {
			parts = append(parts, a.Reason)
		}
		if a.StatusReason != "" && a.Interruption != "" {
			parts = append(parts, Interrupted(a, a.StatusReason))
		}
	}
	if j.StatusReason != "" && !slices.ContainsFunc(parts, func(p string) bool { return p == j.StatusReason || strings.HasSuffix(p, ": "+j.StatusReason) }) {
		parts = append(parts, j.StatusReason)
	}
	return strings.Join(parts, "; ")
}

// Wait follows jobs until every one has SUCCEEDED or FAILED. Each round
// describes only the jobs not yet done, MaxDescribe a call. It returns the
// jobs in the order of ids, and a *FailedError when any FAILED (the failed
// children of a failed array job are listed in its Array), a
// *NotFoundError for IDs Batch does not know, a *waiter.TimeoutError when
// MaxWait runs out, or the context's error.
func Wait(ctx context.Context, c WaitAPI, ids []string, o WaitOptions) ([]*Job, error) {
	if o.MinDelay <= 0 {
		o.MinDelay = DefaultMinDelay
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	ids = dedupe(ids)
	jobs := make([]*Job, len(ids))
	byID := make(map[string]*Job, len(ids))
	for i, id := range ids {
		jobs[i] = &Job{ID: id}
		byID[id] = jobs[i]
	}
	what := "wait for job " + strings.Join(ids, ", ")
	if len(ids) > 3 {
		what = fmt.Sprintf("wait for %d jobs", len(ids))
	}
	pending := slices.Clone(ids)
	changed := false
	wo := waiter.Options{MinDelay: o.MinDelay, MaxDelay: o.MaxDelay, MaxWait: o.MaxWait, Clock: o.Clock, Sleep: o.Sleep,
		Changed: func() bool { return changed }}
	err := waiter.Wait(ctx, what, wo, func(ctx context.Context) (bool, error) {
		changed = false
		found, unknown, err := Describe(ctx, c, pending)
		if err != nil {
			return false, err
		}
		if len(unknown) > 0 {
			return false, &NotFoundError{IDs: unknown}
		}
		now := o.Clock.Now()
		for i, d := range found {
			// Describe keeps the order it was asked in.
			j := byID[pending[i]]
			before := progressOf(j)
			transition := j.Update(d, now)
			if transition && o.OnTransition != nil {
				o.OnTransition(j)
			}
			changed = changed || transition || !before.same(progressOf(j))
		}
		pending = slices.DeleteFunc(pending, func(id string) bool { return byID[id].Status.Terminal() })
		if len(pending) == 0 {
			if err := listFailedChildren(ctx, c, jobs); err != nil {
				return false, err
			}
		}
		if o.OnPoll != nil {
			o.OnPoll(jobs, now)
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		return jobs, err
	}
	return jobs, failed(jobs)
}

// progress is what a poll compares to tell a change: the state, the
// attempts made, and an array's children by state.
type progress struct {
	status   State
	attempts int
	counts   map[State]int
}

func progressOf(j *Job) progress {
	p := progress{status: j.Status, attempts: len(j.Attempts)}
	if j.Array != nil {
		p.counts = j.Array.Counts
	}
	return p
}

func (p progress) same(q progress) bool {
	return p.status == q.status && p.attempts == q.attempts && maps.Equal(p.counts, q.counts)
}
