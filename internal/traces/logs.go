package traces

import (
	"context"
	"errors"
	"time"

	"github.com/batchxray/batchxray/internal/joblogs"
)

// LogsAPI is the CloudWatch Logs call Lookup makes for the end of a failed
// attempt's output.
type LogsAPI = joblogs.LogsAPI

// DefaultLogLines is how many of a failed attempt's last lines `trace`
// shows; MaxLogLines the most one GetLogEvents call returns.
const (
	DefaultLogLines = 5
	MaxLogLines     = 10000
)

// AttemptLog is the end of a failed attempt's output, drawn under the
// attempt's lifecycle row.
type AttemptLog struct {
	Attempt int `json:"attempt"`
	// Lines are the attempt's last lines, oldest first.
	Lines []string `json:"lines,omitempty"`
	// Unreadable, when not empty, says why the log could not be read.
	Unreadable string `json:"unreadable,omitempty"`
}

// withLogs gives the view the last o.LogLines lines of each failed attempt
// of its job, one GetLogEvents call an attempt. An attempt that ran no
// container has none; a log that cannot be read says why and the view goes
// on without it. Only a cancelled ctx is an error.
func withLogs(ctx context.Context, v View, o LookupOptions) (View, error) {
	j := v.Job
	if o.Logs == nil || o.LogLines <= 0 || j.Array != nil {
		return v, nil
	}
	// Only attempts that ended are read, and their outcome does not
	// depend on the clock.
	for _, t := range Lifecycle(j, time.Time{}) {
		if t.Outcome != OutcomeFailed {
			continue
		}
		lines, err := joblogs.Last(ctx, o.Logs, &j, t.Attempt, o.LogLines)
		var (
			ns *joblogs.NoStreamError
			ue *joblogs.UnreadableError
		)
		switch {
		case ctx.Err() != nil:
			return View{}, ctx.Err()
		case errors.As(err, &ns):
			continue
		case errors.As(err, &ue):
			v.Logs = append(v.Logs, AttemptLog{Attempt: t.Attempt, Unreadable: ue.Why})
		case err != nil:
			v.Logs = append(v.Logs, AttemptLog{Attempt: t.Attempt, Unreadable: err.Error()})
		default:
			l := AttemptLog{Attempt: t.Attempt, Lines: make([]string, len(lines))}
			for i, line := range lines {
				l.Lines[i] = line.Message
			}
			v.Logs = append(v.Logs, l)
		}
	}
	return v, nil
}

// attemptLog is the log read for an attempt, if any.
func attemptLog(logs []AttemptLog, attempt int) (AttemptLog, bool) {
	for _, l := range logs {
		if l.Attempt == attempt {
			return l, true
		}
	}
	return AttemptLog{}, false
}
