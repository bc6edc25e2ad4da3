package traces

import (
	"strconv"

	"github.com/batchxray/batchxray/internal/jobs"
)

// KilledAttempt is an attempt of the job that ended while its segment was
// still in progress: the process was killed (out of memory, Spot reclaimed,
// SIGKILL) before it could send the complete segment, so the trace holds
// the in-progress one it sent when it started.
type KilledAttempt struct {
	Attempt int `json:"attempt"`
	// Reason is Batch's: the container's reason, else the attempt's
	// status reason, else the job's.
	Reason string `json:"reason,omitempty"`
}

// The states of an attempt's segment in AttemptTrace.
const (
	// SegmentComplete: the attempt sent its complete segment.
	SegmentComplete = "complete"
	// SegmentInProgress: the attempt still runs; its segment is drawn as
	// far as it has sent.
	SegmentInProgress = "inProgress"
	// SegmentKilled: the attempt ended without a complete segment.
	SegmentKilled = "killed"
	// SegmentMissing: the attempt started but its trace holds no segment
	// of it.
	SegmentMissing = "missing"
)

// AttemptTrace is what the trace holds of one attempt of a job, for
// `--output json`: the same whether the trace came from BatchGetTraces or
// from a retrieval (Transaction Search).
type AttemptTrace struct {
	Attempt int `json:"attempt"`
	// Segment is one of SegmentComplete, SegmentInProgress,
	// SegmentKilled and SegmentMissing.
	Segment   string `json:"segment"`
	TraceID   string `json:"traceId,omitempty"`
	SegmentID string `json:"segmentId,omitempty"`
	// Reason is Batch's, for a killed attempt (see KilledAttempt).
	Reason string `json:"reason,omitempty"`
}

// Attempts is, for each attempt of the job that started (Batch's ended ones
// and one still running), what its trace holds of it.
func Attempts(j jobs.Job, ts []*Trace) []AttemptTrace {
	type seg struct {
		trace string
		span  *Span
	}
	byAttempt := map[int]seg{}
	last := len(j.Attempts)
	for _, t := range ts {
		t.Walk(func(s *Span, _ int) {
			if !s.Segment || s.Inferred || s.Name == jobs.SubmitSegmentName {
				return
			}
			n, ok := attemptNumber(s.Annotations["attempt"])
			if !ok || n < 1 {
				return
			}
			if have, ok := byAttempt[n]; !ok || have.span.InProgress && !s.InProgress {
				byAttempt[n] = seg{t.ID, s}
			}
			last = max(last, n)
		})
	}
	if n := len(j.Attempts); j.Status == jobs.Running && (n == 0 || !j.Attempts[n-1].StoppedAt.IsZero()) {
		last = max(last, n+1) // the attempt running now, which Batch lists once it ends
	}
	var out []AttemptTrace
	for n := 1; n <= last; n++ {
		at := AttemptTrace{Attempt: n, Segment: SegmentMissing}
		s, ok := byAttempt[n]
		if !ok && n <= len(j.Attempts) && j.Attempts[n-1].StartedAt.IsZero() {
			continue // it never ran, so it sent nothing
		}
		if ok {
			at.TraceID, at.SegmentID = s.trace, s.span.ID
			switch {
			case !s.span.InProgress:
				at.Segment = SegmentComplete
			case n <= len(j.Attempts) && !j.Attempts[n-1].StoppedAt.IsZero():
				at.Segment, at.Reason = SegmentKilled, killReason(j, n)
			default:
				at.Segment = SegmentInProgress
			}
		}
		out = append(out, at)
	}
	return out
}

// Killed lists the job's attempts that ended without a complete segment.
func Killed(v View) []KilledAttempt {
	var out []KilledAttempt
	for _, a := range Attempts(v.Job, v.Traces) {
		if a.Segment == SegmentKilled {
			out = append(out, KilledAttempt{Attempt: a.Attempt, Reason: a.Reason})
		}
	}
	return out
}

// killReason is Batch's reason for the end of attempt n.
func killReason(j jobs.Job, n int) string {
	a := j.Attempts[n-1]
	switch {
	case a.Reason != "":
		return a.Reason
	case a.StatusReason != "":
		return jobs.Interrupted(a, a.StatusReason)
	}
	return j.StatusReason
}

func attemptNumber(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		return int(v), true
	case int:
		return v, true
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

// running reports whether the job has not ended: its trace is what is there
// so far.
func running(j jobs.Job) bool { return !j.CreatedAt.IsZero() && !j.Status.Terminal() }
