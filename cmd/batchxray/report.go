package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/report"
	"github.com/batchxray/batchxray/internal/ui"
)

type reportOptions struct {
	f     *factory
	clock clockwork.Clock

	since       time.Duration
	jobs        []string
	name        string
	statuses    []string
	html        string
	slowest     int
	concurrency int
}

var reportStatuses = []string{"SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"}

func newReportCmd(f *factory, runF func(context.Context, *reportOptions) error) *cobra.Command {
	opts := &reportOptions{f: f, clock: clockwork.NewRealClock()}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Find the bottlenecks of many jobs: queue wait, run time, failures, subsegments.",
		Long: `Report on the stack's jobs created in the last --since (or the jobs named by
--jobs, where an array job stands for its children): jobs by outcome, queue
wait and run time (p50, p95, max and a histogram), attempts and retries,
failure reasons with an example each, the subsegments of their traces by
name with the heaviest first, and the slowest jobs with the command that
draws each. Traces are fetched by the ID a job carries, else searched for.
Each job's states come from the stack's recorded job events where it has
them (which also know the jobs Batch no longer returns, in the window or
named by --jobs), else from DescribeJobs; the report says which.

--html FILE also writes one self-contained page with the same figures, a
timeline of every job and each job's waterfall a click away.`,
		Example: `  batchxray report
  batchxray report --since 24h --name etl- --status FAILED
  batchxray report --jobs "$array_id" --html report.html
  batchxray report --output json | jq '.subsegments[0]'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case opts.since <= 0:
				return usageErrorf("invalid --since %s: must be positive", opts.since)
			case cmd.Flags().Changed("since") && len(opts.jobs) > 0:
				return usageErrorf("--since and --jobs: give one of them")
			case opts.slowest < 1:
				return usageErrorf("invalid --slowest %d: must be at least 1", opts.slowest)
			case opts.concurrency < 1 || opts.concurrency > 64:
				return usageErrorf("invalid --concurrency %d: must be 1 to 64", opts.concurrency)
			}
			for i, s := range opts.statuses {
				opts.statuses[i] = strings.ToUpper(s)
				if !slices.Contains(reportStatuses, opts.statuses[i]) {
					return usageErrorf("invalid --status %q: want one of %s", s, strings.Join(reportStatuses, ", "))
				}
			}
			if opts.html != "" {
				if st, err := os.Stat(filepath.Dir(opts.html)); err != nil || !st.IsDir() {
					return usageErrorf("invalid --html %q: its directory does not exist", opts.html)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReport(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.since, "since", 6*time.Hour, "report on the jobs created this long ago or later")
	fl.StringSliceVar(&opts.jobs, "jobs", nil, "report on these job IDs instead (an array job: its children)")
	fl.StringVar(&opts.name, "name", "", "only jobs whose name starts with this")
	fl.StringSliceVar(&opts.statuses, "status", nil, "only jobs in these states (SUCCEEDED, FAILED, ...)")
	fl.StringVar(&opts.html, "html", "", "also write the report as one self-contained HTML file")
	fl.IntVar(&opts.slowest, "slowest", report.DefaultSlowest, "list this many of the slowest jobs")
	fl.IntVar(&opts.concurrency, "concurrency", report.DefaultConcurrency, "AWS calls in flight at once")
	return cmd
}

func runReport(ctx context.Context, opts *reportOptions) error {
	f := opts.f
	ios := f.IOStreams
	sc, err := loadStack(ctx, f)
	if err != nil {
		return err
	}
	progress := ui.NewProgress(ios)
	g := &report.Gatherer{
		Batch: batch.NewFromConfig(sc.cfg), XRay: xray.NewFromConfig(sc.cfg),
		Logs: cloudwatchlogs.NewFromConfig(sc.cfg), EventsGroup: sc.names.EventsLogGroup,
		Clock: opts.clock, Concurrency: opts.concurrency, Progress: progress,
	}
	now := f.Now()
	req := report.Request{Queue: sc.names.JobQueue, Jobs: opts.jobs, NamePrefix: opts.name, Statuses: opts.statuses}
	if len(opts.jobs) == 0 {
		req.Since, req.Until = now.Add(-opts.since), now
	}
	in, err := g.Gather(ctx, req)
	progress.Close()
	if err != nil {
		return explainAWSError(err)
	}
	figs := report.Compute(in, now, opts.slowest)
	if opts.html != "" {
		page, err := report.HTML(in, figs, now)
		if err != nil {
			return err
		}
		if err := os.WriteFile(opts.html, page, 0o644); err != nil {
			return fmt.Errorf("write the HTML report: %w", err)
		}
		fmt.Fprintf(ios.ErrOut, "wrote %s\n", opts.html)
	}
	if f.Globals.JSON() {
		enc := json.NewEncoder(ios.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(figs)
	}
	fmt.Fprint(ios.Out, report.Render(figs, report.Options{Width: ios.TerminalWidth(), Color: ios.ColorEnabled()}))
	return nil
}
