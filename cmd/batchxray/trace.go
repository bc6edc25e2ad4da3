package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/report"
	"github.com/batchxray/batchxray/internal/traces"
	"github.com/batchxray/batchxray/internal/ui"
	"github.com/batchxray/batchxray/internal/waiter"
)

// defaultTraceWait is the short grace trace gives X-Ray to index a job's
// traces: they appear seconds after the daemon flushes, sometimes longer.
const defaultTraceWait = 30 * time.Second

// outputOTLP is trace's own --output: the trace as OTLP JSON.
const outputOTLP = "otlp"

type traceOptions struct {
	f *factory
	// clock drives the Finder's waits and backoff; tests pass a fake.
	clock clockwork.Clock

	jobID       string
	wait        time.Duration
	depth       int
	minDuration time.Duration
	errorsOnly  bool
	// index is the array child to draw; hasIndex says --index was given,
	// since 0 is a valid index.
	index    int
	hasIndex bool
	raw      bool
}

func newTraceCmd(f *factory, runF func(context.Context, *traceOptions) error) *cobra.Command {
	opts := &traceOptions{f: f, clock: clockwork.NewRealClock()}
	cmd := &cobra.Command{
		Use:   "trace JOB_ID",
		Short: "Find a job's X-Ray trace and draw it in the terminal.",
		Long: `Find the X-Ray traces of a Batch job by its job_id annotation and draw them:
a header with the job's state and times, one lifecycle track per attempt,
the waterfall of its segments and subsegments on the same time axis, and
a one-line service map. An array job is drawn as a table of its children;
--index N draws one child. The trace's console URL goes on stderr.

A job sends its trace when it ends, and X-Ray indexes it seconds later, so
trace follows a job that has not ended and then waits for its traces, for
--wait in all. When there is none it says why: the job never started, is
still running, ran untraced, or X-Ray has not indexed it yet.

Exit status: 0 when a trace was drawn, 4 when the job or its trace is not
found, 2 for a bad flag, 130 on Ctrl-C.`,
		Example: `  id=$(batchxray submit) && batchxray status "$id" && batchxray trace "$id"
  batchxray trace "$(batchxray submit)"
  batchxray trace "$id" --errors-only --min-duration 10ms
  batchxray trace "$array_id" --index 7
  batchxray trace "$id" --output json | jq '.summary'
  batchxray trace "$id" --raw | jq -r .name
  batchxray trace "$id" --output otlp > trace.json  # for otel-tui or Jaeger`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.jobID = args[0]
			opts.hasIndex = cmd.Flags().Changed("index")
			switch {
			case opts.wait < 0:
				return usageErrorf("invalid --wait %s: must not be negative", opts.wait)
			case opts.depth < 0:
				return usageErrorf("invalid --depth %d: must not be negative (0 draws every level)", opts.depth)
			case opts.minDuration < 0:
				return usageErrorf("invalid --min-duration %s: must not be negative", opts.minDuration)
			case opts.hasIndex && opts.index < 0:
				return usageErrorf("invalid --index %d: array indexes start at 0", opts.index)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTrace(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.wait, "wait", defaultTraceWait, "wait this long in all for the job to end and X-Ray to index its traces (0: look once)")
	fl.IntVar(&opts.depth, "depth", 0, "draw this many levels below each segment (0: all)")
	fl.DurationVar(&opts.minDuration, "min-duration", 0, "hide spans shorter than this, unless they failed or still run")
	fl.BoolVar(&opts.errorsOnly, "errors-only", false, "draw only the spans that failed and the path to them")
	fl.IntVar(&opts.index, "index", 0, "for an array job, draw the child with this index instead of the table")
	fl.BoolVar(&opts.raw, "raw", false, "print the segment documents as X-Ray returned them, one JSON document a line")
	return cmd
}

// jobNotFoundError is a job ID Batch does not know in the region asked.
type jobNotFoundError struct{ id, region string }

func (e *jobNotFoundError) Error() string {
	return fmt.Sprintf("job %q not found in %s: Batch keeps finished jobs for about 7 days; check the ID and --region", e.id, e.region)
}

// NotFound marks the error for exit code 4.
func (e *jobNotFoundError) NotFound() bool { return true }

// traceNotFoundError adds the Finder's hint to its explanation, so the
// user reads why there is no trace and then what to do next.
type traceNotFoundError struct{ *traces.NotFoundError }

func (e traceNotFoundError) Error() string {
	return e.NotFoundError.Error() + "\n" + e.Hint()
}

func runTrace(ctx context.Context, opts *traceOptions) error {
	f := opts.f
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return err
	}
	bc := batch.NewFromConfig(cfg)
	found, _, err := jobs.Describe(ctx, bc, []string{opts.jobID})
	if err != nil {
		return explainAWSError(err)
	}
	if len(found) == 0 {
		return &jobNotFoundError{id: opts.jobID, region: cfg.Region}
	}
	j := jobs.FromDetail(found[0])
	if err := checkIndex(opts, j); err != nil {
		return err
	}

	// Following and finding can take a while: on a terminal a spinner says
	// what is going on; off one nothing, so stderr stays quiet in scripts.
	progress := ui.NewProgress(f.IOStreams)
	defer progress.Close()
	wait := opts.wait
	if !j.Status.Terminal() && wait > 0 {
		start := opts.clock.Now()
		if j, err = followJob(ctx, opts, bc, j, progress); err != nil {
			return err
		}
		wait = max(wait-opts.clock.Since(start), 0)
	}

	v := traces.View{Job: j}
	expect := 0
	if j.Array != nil {
		if v.Children, err = describeChildren(ctx, bc, j); err != nil {
			return err
		}
		for _, c := range v.Children {
			if !c.Job.Started().IsZero() {
				expect++
			}
		}
	} else {
		for _, a := range j.Attempts {
			if !a.StartedAt.IsZero() {
				expect++
			}
		}
	}

	label := fmt.Sprintf("looking for the traces of %s in X-Ray (up to %s)", j.ID, wait.Round(time.Second))
	progress.Start(label)
	finder := traces.NewFinder(xray.NewFromConfig(cfg), opts.clock)
	got, err := finder.Find(ctx, traces.Request{Job: v.Job, Wait: wait, Expect: expect})
	progress.End(label)
	if err != nil {
		var nf *traces.NotFoundError
		if errors.As(err, &nf) {
			return traceNotFoundError{nf}
		}
		return explainAWSError(err)
	}
	if j.Array != nil {
		groupChildren(&v, got)
	} else {
		v.Traces = got
	}
	if opts.hasIndex {
		// The index was checked against the size; a child Batch did not
		// describe has no view.
		child, ok := v.ChildView(opts.index)
		if !ok {
			return &jobNotFoundError{id: j.ID + ":" + strconv.Itoa(opts.index), region: cfg.Region}
		}
		v = child
	}
	return printTrace(opts, v, cfg.Region)
}

// checkIndex refuses an --index the job cannot have, before any waiting.
func checkIndex(opts *traceOptions, j jobs.Job) error {
	switch {
	case !opts.hasIndex:
		return nil
	case j.Array == nil:
		return usageErrorf("--index %d: job %s is not an array job", opts.index, j.ID)
	case opts.index >= j.Array.Size:
		return usageErrorf("--index %d: array job %s has indexes 0 to %d", opts.index, j.ID, j.Array.Size-1)
	}
	return nil
}

// followJob waits, within --wait, for a job that has not ended: it sends its
// trace only when it ends, so `batchxray trace "$(batchxray submit)"` works.
// It returns the job as last seen, with the transitions seen on the way; a
// job that FAILED or is still going is no error here.
func followJob(ctx context.Context, opts *traceOptions, bc *batch.Client, j jobs.Job, progress *ui.Progress) (jobs.Job, error) {
	label := fmt.Sprintf("waiting for %s to end (up to %s)", j.ID, opts.wait)
	progress.Start(label)
	defer progress.End(label)
	js, err := jobs.Wait(ctx, bc, []string{j.ID}, jobs.WaitOptions{MaxWait: opts.wait, Clock: opts.clock})
	var (
		failed   *jobs.FailedError
		timedOut *waiter.TimeoutError
	)
	if err != nil && !errors.As(err, &failed) && !errors.As(err, &timedOut) {
		return j, explainAWSError(err)
	}
	if len(js) == 1 && !js[0].CreatedAt.IsZero() {
		return *js[0], nil
	}
	return j, nil
}

// describeChildren describes every child of an array job, MaxDescribe a
// call; Batch names them <parent>:<index>.
func describeChildren(ctx context.Context, bc *batch.Client, parent jobs.Job) ([]traces.Child, error) {
	ids := make([]string, parent.Array.Size)
	for i := range ids {
		ids[i] = parent.ID + ":" + strconv.Itoa(i)
	}
	details, _, err := jobs.Describe(ctx, bc, ids)
	if err != nil {
		return nil, explainAWSError(err)
	}
	children := make([]traces.Child, 0, len(details))
	for _, d := range details {
		children = append(children, traces.Child{Job: jobs.FromDetail(d)})
	}
	return children, nil
}

// groupChildren hands each trace of an array job to the child whose index
// its segment carries. A trace without one stays with the parent.
func groupChildren(v *traces.View, ts []*traces.Trace) {
	byIndex := make(map[int]int, len(v.Children))
	for i, c := range v.Children {
		byIndex[c.Index()] = i
	}
	for _, t := range ts {
		if idx, ok := traces.ArrayIndex(t); ok {
			if i, ok := byIndex[idx]; ok {
				v.Children[i].Traces = append(v.Children[i].Traces, t)
				continue
			}
		}
		v.Traces = append(v.Traces, t)
	}
}

// printTrace writes the view on stdout (drawing, JSON or raw documents)
// and the console URLs of the traces drawn on stderr.
func printTrace(opts *traceOptions, v traces.View, region string) error {
	f := opts.f
	ios := f.IOStreams
	now := f.Now()
	switch {
	case opts.raw:
		if err := printRaw(ios.Out, v); err != nil {
			return err
		}
	case f.Globals.Output == outputOTLP:
		all := v.Traces
		for _, c := range v.Children {
			all = append(all[:len(all):len(all)], c.Traces...)
		}
		b, err := report.OTLPTraces(all)
		if err != nil {
			return err
		}
		if _, err := ios.Out.Write(b); err != nil {
			return err
		}
	case f.Globals.JSON():
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(traces.NewOutput(v, now)); err != nil {
			return err
		}
	default:
		fmt.Fprint(ios.Out, traces.Render(v, traces.Options{
			Width:       ios.TerminalWidth(),
			Color:       ios.ColorEnabled(),
			Now:         now,
			Depth:       opts.depth,
			MinDuration: opts.minDuration,
			ErrorsOnly:  opts.errorsOnly,
		}))
	}
	// An array parent's table would bury the user in URLs: the children's
	// are shown when one is drawn with --index.
	for _, t := range v.Traces {
		fmt.Fprintf(ios.ErrOut, "console  %s\n", traces.ConsoleURL(region, t.ID))
	}
	if len(v.Children) > 0 && !opts.raw && !f.Globals.JSON() {
		fmt.Fprintf(ios.ErrOut, "draw one child with: batchxray trace %s --index N\n", v.Job.ID)
	}
	return nil
}

// printRaw writes every document of the view's traces, children's too, as
// BatchGetTraces returned it, one a line, so jq can read the stream.
func printRaw(w io.Writer, v traces.View) error {
	all := v.Traces
	for _, c := range v.Children {
		all = append(all[:len(all):len(all)], c.Traces...)
	}
	for _, t := range all {
		for _, doc := range t.Raw {
			// A document X-Ray stored indented would break the stream.
			var line bytes.Buffer
			if err := json.Compact(&line, []byte(doc)); err != nil {
				return fmt.Errorf("document of trace %s: %w", t.ID, err)
			}
			line.WriteByte('\n')
			if _, err := w.Write(line.Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
}
