package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/ui"
)

// FollowAPI is what Follow calls: Wait's calls, and Explain's for a job
// that waits in RUNNABLE.
type FollowAPI interface {
	WaitAPI
	ExplainAPI
}

var _ FollowAPI = (*batch.Client)(nil)

// FollowOptions shape Follow.
type FollowOptions struct {
	// Once looks once and does not wait (status --once).
	Once bool
	// Submitted says the jobs were just submitted, so none has ended:
	// Follow waits at once, without a first look.
	Submitted bool
	// MaxWait bounds the wait; it is required unless Once.
	MaxWait time.Duration
	// ExplainAfter is how long a job waits in RUNNABLE before Follow
	// explains why, once (default RunnableHint).
	ExplainAfter time.Duration
	// MinDelay, MaxDelay and Clock shape the polls, as in WaitOptions.
	MinDelay, MaxDelay time.Duration
	Clock              clockwork.Clock
	// IO's stderr receives the progress: a live line redrawn in place on a
	// terminal, one line per transition otherwise. nil shows none.
	IO *ui.IOStreams
	// Now is the live line's clock (default time.Now).
	Now func() time.Time
	// Log receives what is only worth a --debug line (default discards).
	Log *slog.Logger
	// History, when not nil, fills in the jobs' transitions at the end
	// from Batch's recorded events (the stack's job events log group).
	History History
}

// LookupError is a failure to look the jobs up at all: there is nothing
// to show, only the error.
type LookupError struct{ Err error }

func (e *LookupError) Error() string { return e.Err.Error() }
func (e *LookupError) Unwrap() error { return e.Err }

// Follow is what `status` and `submit --wait` do: it looks the jobs up
// and, unless Once or every job has ended, waits for them to end while
// showing their progress, explaining once each job that waits in RUNNABLE
// longer than ExplainAfter. A FAILED array job carries its failed children.
//
// It returns the jobs as last seen, in the order of ids, and an error that
// joins a *FailedError (some job FAILED) or what stopped the wait
// (*waiter.TimeoutError, the context's error, a call that failed) with a
// *NotFoundError for the IDs Batch does not know. When the jobs could not
// be looked up at all the error is a *LookupError and there are no jobs.
func Follow(ctx context.Context, c FollowAPI, ids []string, o FollowOptions) ([]*Job, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	js, err := followJobs(ctx, c, ids, o)
	// The record is read once the jobs are as they will be shown, also
	// after a timeout or an interruption (its context may be done, then
	// the jobs keep what polling saw).
	fillHistory(ctx, o.History, js, o.Log.Debug)
	return js, err
}

func followJobs(ctx context.Context, c FollowAPI, ids []string, o FollowOptions) ([]*Job, error) {
	if o.Submitted {
		js, err := follow(ctx, c, ids, o)
		nameInterruptions(ctx, c, js, o.Log)
		return js, err
	}
	found, unknown, err := Describe(ctx, c, ids)
	if err != nil {
		return nil, &LookupError{err}
	}
	var notFound error
	if len(unknown) > 0 {
		notFound = &NotFoundError{IDs: unknown}
	}
	js := make([]*Job, 0, len(found))
	done := true
	for _, d := range found {
		j := FromDetail(d)
		js = append(js, &j)
		done = done && j.Status.Terminal()
	}
	if o.Once || done {
		if err := listFailedChildren(ctx, c, js); err != nil {
			return nil, &LookupError{err}
		}
		nameInterruptions(ctx, c, js, o.Log)
		return js, errors.Join(failed(js), notFound)
	}
	if notFound != nil && o.IO != nil {
		fmt.Fprintf(o.IO.ErrOut, "batchxray: %s; following the others\n", notFound)
	}
	followIDs := make([]string, len(js))
	for i, j := range js {
		followIDs[i] = j.ID
	}
	js, err = follow(ctx, c, followIDs, o)
	nameInterruptions(ctx, c, js, o.Log)
	var fe *FailedError
	if err != nil && !errors.As(err, &fe) {
		return js, errors.Join(err, notFound)
	}
	return js, errors.Join(failed(js), notFound)
}

// follow waits for the jobs with the progress output on o.IO's stderr.
func follow(ctx context.Context, c FollowAPI, ids []string, o FollowOptions) ([]*Job, error) {
	if o.ExplainAfter <= 0 {
		o.ExplainAfter = RunnableHint
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	p := newFollowProgress(o)
	defer p.live.Close()
	explained := map[string]bool{}
	arrayCounts := map[string]string{}
	return Wait(ctx, c, ids, WaitOptions{
		MinDelay: o.MinDelay, MaxDelay: o.MaxDelay, MaxWait: o.MaxWait, Clock: o.Clock,
		OnTransition: func(j *Job) {
			if !p.live.TTY() {
				p.live.Println(TransitionLine(j, p.st))
			}
		},
		OnPoll: func(js []*Job, now time.Time) {
			for _, j := range js {
				if j.Array != nil && !p.live.TTY() {
					if s := fmt.Sprint(j.Array.Counts); arrayCounts[j.ID] != s {
						arrayCounts[j.ID] = s
						p.live.Println(ArrayLine(j, now, p.st))
					}
				}
				if waited := j.RunnableFor(now); waited > 0 && waited >= o.ExplainAfter && !explained[j.ID] {
					explained[j.ID] = true
					lines, err := Explain(ctx, c, j)
					if err != nil {
						o.Log.Debug("explain RUNNABLE", "job", j.ID, "err", err)
						continue
					}
					p.live.Println(p.st.Warn.Render(ui.GlyphWarn) + fmt.Sprintf(" %s (%s) has waited in RUNNABLE for %s:", j.Name, j.ID, FormatDuration(waited)))
					for _, l := range lines {
						p.live.Println("    " + l)
					}
				}
			}
			p.update(js)
		},
	})
}

// nameInterruptions names the attempts whose host was terminated (see
// NameInterruptions); a lookup that fails leaves them "host terminated",
// which is worth only a --debug line.
func nameInterruptions(ctx context.Context, c ExplainAPI, js []*Job, log *slog.Logger) {
	if err := NameInterruptions(ctx, c, js); err != nil {
		log.Debug("name interruptions", "err", err)
	}
}

// followProgress draws the jobs' live line with the ui's Live engine: on
// every poll and once a second between polls, so the times keep moving.
type followProgress struct {
	live  *ui.Live
	st    ui.Styles
	width int
	now   func() time.Time
	// jobs is a copy of the latest poll's, read by draw and changed only
	// inside live.Update.
	jobs []*Job
}

func newFollowProgress(o FollowOptions) *followProgress {
	p := &followProgress{now: o.Now, width: ui.DefaultWidth}
	if o.IO == nil {
		p.live = ui.NewLive(io.Discard, false, time.Second, p.draw)
		return p
	}
	ios := o.IO
	p.st = ui.NewStyles(ios.ErrOut, ios.ColorEnabledStderr())
	p.width = ios.TerminalWidth()
	p.live = ui.NewLive(ios.ErrOut, ios.CanRedrawStderr(), time.Second, p.draw)
	return p
}

func (p *followProgress) draw(int) string {
	if len(p.jobs) == 0 {
		return ""
	}
	return LiveLineMany(p.jobs, p.now(), p.width, p.st)
}

// update takes the jobs of the latest poll. The jobs are the waiter's, and
// it changes them only during a poll, which is when update is called, so
// the copy of the slice is enough.
func (p *followProgress) update(js []*Job) {
	p.live.Update(func() {
		p.jobs = make([]*Job, len(js))
		for i, j := range js {
			c := *j
			p.jobs[i] = &c
		}
	})
}

// failed is the *FailedError of the jobs that FAILED, or nil.
func failed(js []*Job) error {
	var fs []*Job
	for _, j := range js {
		if j.Status == Failed {
			fs = append(fs, j)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return &FailedError{Jobs: fs}
}

// listFailedChildren names the failed children of every FAILED array job
// that has some: the one place that rule lives.
func listFailedChildren(ctx context.Context, c WaitAPI, js []*Job) error {
	for _, j := range js {
		if j.Status == Failed && j.Array != nil && j.Array.Counts[Failed] > 0 {
			var err error
			if j.Array.FailedChildren, err = FailedChildren(ctx, c, j.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// TerminateAPI is what Terminate calls.
type TerminateAPI interface {
	TerminateJob(context.Context, *batch.TerminateJobInput, ...func(*batch.Options)) (*batch.TerminateJobOutput, error)
}

var _ TerminateAPI = (*batch.Client)(nil)

// TerminateTimeout bounds Terminate's call.
const TerminateTimeout = 30 * time.Second

// Terminate asks Batch to end the job, giving reason. It asks even when ctx
// is already cancelled (by the Ctrl-C that led to it), within
// TerminateTimeout.
func Terminate(ctx context.Context, c TerminateAPI, id, reason string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), TerminateTimeout)
	defer cancel()
	_, err := c.TerminateJob(ctx, &batch.TerminateJobInput{JobId: aws.String(id), Reason: aws.String(reason)})
	return err
}
