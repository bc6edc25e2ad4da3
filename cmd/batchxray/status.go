package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/ui"
)

type statusOptions struct {
	f *factory

	ids          []string
	once         bool
	maxWait      time.Duration
	explainAfter time.Duration
}

func newStatusCmd(f *factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{f: f}
	cmd := &cobra.Command{
		Use:   "status JOB_ID...",
		Short: "Follow jobs until they SUCCEED or FAIL.",
		Long: `Follow jobs until every one has SUCCEEDED or FAILED, then show each one's
lifecycle: its queue, timestamps, the time it spent in each state, every
attempt with its exit code and reason, and its log stream. An array job
sums up its children and names the ones that failed. --once looks once.

Exit status: 0 when every job SUCCEEDED, 3 when one FAILED, 4 when a job ID
is unknown, 124 when --max-wait runs out, 130 on Ctrl-C.`,
		Example: `  batchxray status "$id"
  batchxray status --once "$id" other-job-id
  batchxray status "$id" --output json | jq '.[0].secondsInState'
  id=$(batchxray submit) && batchxray status "$id" && batchxray trace "$id"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ids = args
			if opts.maxWait <= 0 {
				return usageErrorf("invalid --max-wait %s: must be positive", opts.maxWait)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.once, "once", false, "look once and exit, without waiting for the jobs to end")
	fl.DurationVar(&opts.maxWait, "max-wait", 24*time.Hour, "give up waiting after this long (exit 124)")
	fl.DurationVar(&opts.explainAfter, "explain-after", jobs.RunnableHint, "explain why a job waits in RUNNABLE once it has for this long")
	return cmd
}

func runStatus(ctx context.Context, opts *statusOptions) error {
	f := opts.f
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return err
	}
	c := batch.NewFromConfig(cfg)
	found, unknown, err := jobs.Describe(ctx, c, opts.ids)
	if err != nil {
		return explainAWSError(err)
	}
	var notFound error
	if len(unknown) > 0 {
		notFound = &jobs.NotFoundError{IDs: unknown}
	}
	var followed []*jobs.Job
	now := f.Now()
	done := true
	for _, d := range found {
		j := jobs.FromDetail(d)
		followed = append(followed, &j)
		done = done && j.Status.Terminal()
	}
	if !opts.once && !done {
		if notFound != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "batchxray: %s; following the others\n", notFound)
		}
		ids := make([]string, len(followed))
		for i, j := range followed {
			ids[i] = j.ID
		}
		followed, err = follow(ctx, f, c, ids, opts.maxWait, opts.explainAfter)
		now = f.Now()
		var fe *jobs.FailedError
		if err != nil && !errors.As(err, &fe) {
			// Interrupted or timed out: show where the jobs are.
			_ = printReports(f, followed, now)
			return errors.Join(err, notFound)
		}
	} else {
		for _, j := range followed {
			if j.Status == jobs.Failed && j.Array != nil && j.Array.Counts[jobs.Failed] > 0 {
				if j.Array.FailedChildren, err = jobs.FailedChildren(ctx, c, j.ID); err != nil {
					return explainAWSError(err)
				}
			}
		}
	}
	if err := printReports(f, followed, now); err != nil {
		return err
	}
	var failed []*jobs.Job
	for _, j := range followed {
		if j.Status == jobs.Failed {
			failed = append(failed, j)
		}
	}
	var failErr error
	if len(failed) > 0 {
		failErr = &jobs.FailedError{Jobs: failed}
	}
	return errors.Join(failErr, notFound)
}

// printReports writes the jobs' reports on stdout: text blocks, or JSON.
func printReports(f *factory, js []*jobs.Job, now time.Time) error {
	out := f.IOStreams.Out
	if f.Globals.JSON() {
		reports := make([]jobs.Report, len(js))
		for i, j := range js {
			reports[i] = jobs.NewReport(j, now)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	}
	st := ui.NewStyles(out, f.IOStreams.ColorEnabled())
	for i, j := range js {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprint(out, jobs.Summary(j, now, st))
	}
	return nil
}

// follow waits for the jobs to end while showing their progress on stderr:
// a live line redrawn in place on a terminal, one line per transition
// otherwise. A job that waits in RUNNABLE longer than explainAfter is
// explained once.
func follow(ctx context.Context, f *factory, c *batch.Client, ids []string, maxWait, explainAfter time.Duration) ([]*jobs.Job, error) {
	ios := f.IOStreams
	st := ui.NewStyles(ios.ErrOut, ios.ColorEnabledStderr())
	live := newLiveLine(ios.ErrOut, ios.IsStderrTTY(), ios.TerminalWidth(), st, f.Now)
	defer live.close()
	explained := map[string]bool{}
	arrayCounts := map[string]string{}
	js, err := jobs.Wait(ctx, c, ids, jobs.WaitOptions{
		MaxWait: maxWait,
		OnTransition: func(j *jobs.Job) {
			if !live.tty {
				live.println(jobs.TransitionLine(j, st))
			}
		},
		OnPoll: func(js []*jobs.Job, now time.Time) {
			for _, j := range js {
				if j.Array != nil && !live.tty {
					if s := fmt.Sprint(j.Array.Counts); arrayCounts[j.ID] != s {
						arrayCounts[j.ID] = s
						live.println(jobs.ArrayLine(j, now, st))
					}
				}
				if waited := j.RunnableFor(now); waited > 0 && waited >= explainAfter && !explained[j.ID] {
					explained[j.ID] = true
					lines, err := jobs.Explain(ctx, c, j)
					if err != nil {
						f.Logger().Debug("explain RUNNABLE", "job", j.ID, "err", err)
						continue
					}
					live.println(st.Warn.Render(ui.GlyphWarn) + fmt.Sprintf(" %s (%s) has waited in RUNNABLE for %s:", j.Name, j.ID, jobs.FormatDuration(waited)))
					for _, l := range lines {
						live.println("    " + l)
					}
				}
			}
			live.update(js)
		},
	})
	return js, err
}

// liveLine is the redrawn progress line on a terminal: it is redrawn on
// every poll and once a second between polls, so the times keep moving.
// Off a terminal it only passes lines through.
type liveLine struct {
	w     io.Writer
	tty   bool
	width int
	st    ui.Styles
	now   func() time.Time

	mu    sync.Mutex
	jobs  []*jobs.Job
	drawn bool
	stop  chan struct{}
	done  chan struct{}
}

func newLiveLine(w io.Writer, tty bool, width int, st ui.Styles, now func() time.Time) *liveLine {
	l := &liveLine{w: w, tty: tty, width: width, st: st, now: now}
	if tty {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.tick()
	}
	return l
}

func (l *liveLine) tick() {
	defer close(l.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.redraw()
			l.mu.Unlock()
		}
	}
}

// redraw replaces the line; the caller holds mu.
func (l *liveLine) redraw() {
	if !l.tty || len(l.jobs) == 0 {
		return
	}
	l.clear()
	fmt.Fprint(l.w, jobs.LiveLineMany(l.jobs, l.now(), l.width, l.st))
	l.drawn = true
}

func (l *liveLine) clear() {
	if l.drawn {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.drawn = false
	}
}

// update takes the jobs of the latest poll. The jobs are the waiter's, and
// it changes them only during a poll, which is when update is called, so
// the copy of the slice is enough.
func (l *liveLine) update(js []*jobs.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.jobs = make([]*jobs.Job, len(js))
	for i, j := range js {
		c := *j
		l.jobs[i] = &c
	}
	l.redraw()
}

// println prints a line above the live line.
func (l *liveLine) println(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
	fmt.Fprintln(l.w, s)
	l.redraw()
}

// close stops the redraws and clears the line.
func (l *liveLine) close() {
	if l.tty {
		close(l.stop)
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}
