package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/report"
	"github.com/batchxray/batchxray/internal/traces"
	"github.com/batchxray/batchxray/internal/ui"
)

// outputOTLP is trace's own --output: the trace as OTLP JSON.
const outputOTLP = "otlp"

type traceOptions struct {
	f *factory
	// clock drives the Finder's waits and backoff; tests pass a fake.
	clock clockwork.Clock

	jobID string
	// lookup and render take the flags; lookup.Index is set when --index
	// is given, since 0 is a valid index.
	lookup traces.LookupOptions
	render traces.Options
	index  int
	raw    bool
}

func newTraceCmd(f *factory, runF func(context.Context, *traceOptions) error) *cobra.Command {
	opts := &traceOptions{f: f, clock: clockwork.NewRealClock()}
	cmd := &cobra.Command{
		Use:   "trace JOB_ID",
		Short: "Find a job's X-Ray trace and draw it in the terminal.",
		Long: `Get the X-Ray traces of a Batch job and draw them. A job submitted with
batchxray submit carries its trace ID (the batchxray:trace-id tag), and an
array's children derive theirs from it, so trace fetches them directly:
BatchGetTraces, or StartTraceRetrieval where the account has Transaction
Search on. A job submitted by other means is found by its job_id
annotation. The drawing is a header with the job's state and times, one
lifecycle track per attempt, the waterfall of its segments and
subsegments on the same time axis (on each segment's own, labelled, when
they would be too narrow there), and a one-line service map. An array job is drawn as a table of its children;
--index N draws one child. The trace's console URL goes on stderr.

A job sends its trace when it ends, and X-Ray indexes it seconds later, so
trace follows a job that has not ended and then waits for its traces, for
--wait in all. A running job is drawn as far as it has sent; an attempt
killed before its segment completed is named, with Batch's reason. When
there is no trace it says why: the job never started, is still running,
ran untraced, X-Ray has not indexed it yet, or (found only by search) the
account indexes too small a share of traces. Under a failed attempt go the
last --log-lines lines of its output, from CloudWatch Logs.

Exit status: 0 when a trace was drawn, 4 when the job or its trace is not
found, 2 for a bad flag, 130 on Ctrl-C.`,
		Example: `  id=$(batchxray submit) && batchxray status "$id" && batchxray trace "$id"
  batchxray trace "$(batchxray submit)"
  batchxray trace "$id" --errors-only --min-duration 10ms
  batchxray trace "$array_id" --index 7
  batchxray trace "$id" --output json | jq '.summary'
  batchxray trace "$id" --raw | jq -r .name
  batchxray trace "$id" --output otlp > trace.json  # for otel-tui or Jaeger`,
		Args: cobra.MatchAll(cobra.ExactArgs(1), jobIDArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.jobID = args[0]
			if cmd.Flags().Changed("index") {
				opts.lookup.Index = &opts.index
			}
			if err := traces.CheckOptions(opts.lookup, opts.render); err != nil {
				return usageErrorf("%s", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTrace(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.lookup.Wait, "wait", traces.DefaultWait, "wait this long in all for the job to end and X-Ray to index its traces (0: look once)")
	fl.IntVar(&opts.render.Depth, "depth", 0, "draw this many levels below each segment (0: all)")
	fl.DurationVar(&opts.render.MinDuration, "min-duration", 0, "hide spans shorter than this, unless they failed or still run")
	fl.BoolVar(&opts.render.ErrorsOnly, "errors-only", false, "draw only the spans that failed and the path to them")
	fl.IntVar(&opts.index, "index", 0, "for an array job, draw the child with this index instead of the table")
	fl.IntVar(&opts.lookup.LogLines, "log-lines", traces.DefaultLogLines, "show the last N lines of each failed attempt's output under it (0: none)")
	fl.BoolVar(&opts.raw, "raw", false, "print the segment documents as X-Ray returned them, one JSON document a line")
	return cmd
}

func runTrace(ctx context.Context, opts *traceOptions) error {
	f := opts.f
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return err
	}
	// Following and finding can take a while: on a terminal a spinner says
	// what is going on; off one nothing, so stderr stays quiet in scripts.
	progress := ui.NewProgress(f.IOStreams)
	defer progress.Close()
	lo := opts.lookup
	lo.Progress = progress
	logs := cloudwatchlogs.NewFromConfig(cfg)
	lo.History = events.Log{Client: logs, Group: events.GroupFor(f.Globals.Stack)}
	if !opts.raw && f.Globals.Output != outputOTLP {
		lo.Logs = logs // the text draws them, the JSON holds them
	}
	finder := traces.NewFinder(xray.NewFromConfig(cfg), opts.clock)
	v, err := traces.Lookup(ctx, batch.NewFromConfig(cfg), finder, opts.jobID, lo)
	if ie, ok := errors.AsType[*traces.IndexError](err); ok {
		return usageErrorf("--index %d: %s", ie.Index, ie)
	}
	if err != nil {
		return explainAWSError(traces.Explain(err, cfg.Region))
	}
	return printTrace(opts, v, cfg.Region)
}

// printTrace writes the view on stdout (drawing, JSON or raw documents)
// and the console URLs of the traces drawn on stderr.
func printTrace(opts *traceOptions, v traces.View, region string) error {
	f := opts.f
	ios := f.IOStreams
	var err error
	switch {
	case opts.raw:
		err = traces.WriteRaw(ios.Out, v)
	case f.Globals.Output == outputOTLP:
		var b []byte
		if b, err = report.OTLPTraces(v.AllTraces()); err == nil {
			_, err = ios.Out.Write(b)
		}
	case f.Globals.JSON():
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		err = enc.Encode(traces.NewOutput(v, f.Now()))
	default:
		ro := opts.render
		ro.Width, ro.Color, ro.Now = ios.TerminalWidth(), ios.ColorEnabled(), f.Now()
		_, err = fmt.Fprint(ios.Out, traces.Render(v, ro))
	}
	if err != nil {
		return err
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
