package report

import "time"

// Job is what the report needs of one Batch job. Gather builds it from
// DescribeJobs; tests build it by hand.
type Job struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	// Reason is why the job ended as it did: Batch's status reason, or the
	// last attempt's.
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	StoppedAt time.Time `json:"stoppedAt,omitzero"`
	Attempts  []Attempt `json:"attempts"`
	// ArrayJobID and ArrayIndex are set for an array child.
	ArrayJobID string `json:"arrayJobId,omitempty"`
	ArrayIndex *int   `json:"arrayIndex,omitempty"`
	// TraceID is the job's trace: the batchxray:trace-id tag (an array
	// child's derived from its parent's), when the job carries one.
	TraceID string `json:"traceId,omitempty"`
	// Transitions are the job's states and when it entered each, from the
	// stack's recorded job events; empty when there are none.
	Transitions []Transition `json:"transitions,omitempty"`
	// Forgotten is set for a job Batch no longer returns, known from its
	// recorded events alone.
	Forgotten bool `json:"forgotten,omitempty"`
}

// Attempt is one run of a job's container.
type Attempt struct {
	Start    time.Time `json:"start,omitzero"`
	Stop     time.Time `json:"stop,omitzero"`
	ExitCode *int      `json:"exitCode,omitempty"`
	Reason   string    `json:"reason,omitempty"`
}

// Trace is one X-Ray trace of a job, flattened: its spans in tree order,
// parents before children.
type Trace struct {
	ID    string `json:"id"`
	JobID string `json:"jobId"`
	Spans []Span `json:"spans"`
}

// Span is one segment or subsegment of a trace. Start and End are seconds
// since the epoch, as X-Ray keeps them; End is zero while in progress.
type Span struct {
	Name  string  `json:"name"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	// Depth is 0 for a root segment.
	Depth int `json:"depth"`
	// Segment is true for a segment, false for a subsegment; an inferred
	// segment (a downstream service X-Ray drew) is a segment below depth 0.
	Segment  bool `json:"segment,omitempty"`
	Error    bool `json:"error,omitempty"`
	Fault    bool `json:"fault,omitempty"`
	Throttle bool `json:"throttle,omitempty"`
}

// Duration is the span's length in seconds, 0 while it is in progress.
func (s Span) Duration() float64 {
	if s.End <= s.Start {
		return 0
	}
	return s.End - s.Start
}

// Terminal reports whether the job has ended.
func (j Job) Terminal() bool { return j.Status == "SUCCEEDED" || j.Status == "FAILED" }

// Started is when the first attempt began, zero if none has.
func (j Job) Started() time.Time {
	for _, a := range j.Attempts {
		if !a.Start.IsZero() {
			return a.Start
		}
	}
	return time.Time{}
}

// QueueWait is how long the job waited to run: from RUNNABLE to STARTING
// or RUNNING where its transitions are recorded, else from creation to the
// first attempt's start; to now while it has not started. ok is false for a
// job that ended without starting, whose wait is no queue wait.
func (j Job) QueueWait(now time.Time) (d time.Duration, ok bool) {
	if d, ok, found := j.recordedWait(now); found {
		return d, ok
	}
	start := j.Started()
	if start.IsZero() {
		if j.Terminal() {
			return 0, false
		}
		start = now
	}
	if j.CreatedAt.IsZero() || start.Before(j.CreatedAt) {
		return 0, true
	}
	return start.Sub(j.CreatedAt), true
}

// RunTime is the time the attempts ran, an attempt under way until now;
// ok is false when no attempt started.
func (j Job) RunTime(now time.Time) (d time.Duration, ok bool) {
	for _, a := range j.Attempts {
		if a.Start.IsZero() {
			continue
		}
		ok = true
		stop := a.Stop
		if stop.IsZero() {
			stop = now
		}
		if stop.After(a.Start) {
			d += stop.Sub(a.Start)
		}
	}
	return d, ok
}

// recordedWait is the first RUNNABLE stretch of the recorded transitions;
// found is false when they have no RUNNABLE.
func (j Job) recordedWait(now time.Time) (d time.Duration, ok, found bool) {
	for i, t := range j.Transitions {
		if t.State != "RUNNABLE" {
			continue
		}
		for _, next := range j.Transitions[i+1:] {
			if next.State == "STARTING" || next.State == "RUNNING" {
				return max(next.At.Sub(t.At), 0), true, true
			}
		}
		if j.Terminal() {
			return 0, false, true
		}
		return max(now.Sub(t.At), 0), true, true
	}
	return 0, false, false
}
