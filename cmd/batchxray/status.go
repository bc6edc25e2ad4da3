package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/events"
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
		Args: cobra.MatchAll(cobra.MinimumNArgs(1), jobIDArgs),
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
	js, err := jobs.Follow(ctx, batch.NewFromConfig(cfg), opts.ids, jobs.FollowOptions{
		Once: opts.once, MaxWait: opts.maxWait, ExplainAfter: opts.explainAfter,
		IO: f.IOStreams, Now: f.Now, Log: f.Logger(),
		History: events.Log{Client: cloudwatchlogs.NewFromConfig(cfg), Group: events.GroupFor(f.Globals.Stack)},
	})
	var le *jobs.LookupError
	if errors.As(err, &le) {
		return explainAWSError(le.Err)
	}
	// Interrupted, timed out or not: show where the jobs are.
	if perr := printReports(f, js, f.Now()); perr != nil && err == nil {
		return perr
	}
	return err
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
