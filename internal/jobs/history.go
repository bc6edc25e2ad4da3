package jobs

import "context"

// History fills in jobs' transitions from a record of Batch's own state
// changes (events.Log reads the stack's job events). A job the record has
// nothing on is left as it is, its figures from DescribeJobs and polling;
// Fill's error is for a record that could not be read at all, and the
// jobs are then left as they are too.
type History interface {
	Fill(ctx context.Context, js []*Job) error
}

// The sources a job's state figures come from, as StatesFrom names them.
const (
	FromEvents       = "events"
	FromDescribeJobs = "DescribeJobs"
)

// StatesFrom names where the job's time in each state comes from: Batch's
// recorded events (each state's start, exact) or DescribeJobs and polling.
func (j *Job) StatesFrom() string {
	if j.FromEvents {
		return FromEvents
	}
	return FromDescribeJobs
}

// fillHistory fills the jobs' transitions from h, when there is one; a
// record that cannot be read leaves them as they are, worth a debug line.
func fillHistory(ctx context.Context, h History, js []*Job, debug func(msg string, args ...any)) {
	if h == nil || len(js) == 0 {
		return
	}
	if err := h.Fill(ctx, js); err != nil {
		debug("read the job events", "err", err)
	}
}
