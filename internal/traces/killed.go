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

// Killed lists the job's attempts that ended without a complete segment.
func Killed(v View) []KilledAttempt {
	var out []KilledAttempt
	for _, t := range v.Traces {
		t.Walk(func(s *Span, _ int) {
			if !s.Segment || !s.InProgress {
				return
			}
			n, ok := attemptNumber(s.Annotations["attempt"])
			if !ok || n < 1 || n > len(v.Job.Attempts) {
				return
			}
			a := v.Job.Attempts[n-1]
			if a.StoppedAt.IsZero() {
				return // still running
			}
			reason := a.Reason
			if reason == "" {
				reason = a.StatusReason
			}
			if reason == "" {
				reason = v.Job.StatusReason
			}
			out = append(out, KilledAttempt{Attempt: n, Reason: reason})
		})
	}
	return out
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
