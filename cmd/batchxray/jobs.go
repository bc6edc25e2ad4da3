package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
)

type jobsOptions struct {
	f *factory

	since  time.Duration
	status string
	name   string
}

func newJobsCmd(f *factory, runF func(context.Context, *jobsOptions) error) *cobra.Command {
	opts := &jobsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the stack's jobs, including those Batch has forgotten.",
		Long: `List the stack's jobs created in the last --since: every job its job events
log group (/batchxray/<stack>/events) recorded, including jobs Batch no
longer returns, merged with what Batch's ListJobs says of the ones it still
knows. Array children are left out: their parent stands for them.`,
		Example: `  batchxray jobs
  batchxray jobs --since 72h --status FAILED
  batchxray jobs --name nightly- --output json | jq -r '.jobs[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.since <= 0 {
				return usageErrorf("invalid --since %s: must be positive", opts.since)
			}
			if opts.status != "" {
				opts.status = strings.ToUpper(opts.status)
				if !slices.Contains(jobs.States, jobs.State(opts.status)) {
					return usageErrorf("invalid --status %q: want one of %s", opts.status, joinStates())
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJobs(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.since, "since", 24*time.Hour, "list the jobs created this long ago or later")
	fl.StringVar(&opts.status, "status", "", "only jobs in this state (SUCCEEDED, FAILED, RUNNABLE, ...)")
	fl.StringVar(&opts.name, "name", "", "only jobs whose name starts with this")
	return cmd
}

func joinStates() string {
	s := make([]string, len(jobs.States))
	for i, st := range jobs.States {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

func runJobs(ctx context.Context, opts *jobsOptions) error {
	f := opts.f
	sc, err := loadStack(ctx, f)
	if err != nil {
		return err
	}
	now := f.Now()
	l, err := events.List(ctx, cloudwatchlogs.NewFromConfig(sc.cfg), batch.NewFromConfig(sc.cfg), events.ListRequest{
		Group: events.GroupFor(f.Globals.Stack), Queue: sc.names.JobQueue,
		Since: now.Add(-opts.since), Status: jobs.State(opts.status), NamePrefix: opts.name,
	})
	if err != nil {
		return explainAWSError(err)
	}
	if l.EventsMissing {
		fmt.Fprintf(f.IOStreams.ErrOut, "batchxray: no job events recorded for stack %s (%s): only the jobs Batch still returns are listed; `batchxray up` adds the events' rule\n", f.Globals.Stack, events.GroupFor(f.Globals.Stack))
	}
	if f.Globals.JSON() {
		enc := json.NewEncoder(f.IOStreams.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(l)
	}
	if len(l.Jobs) == 0 {
		fmt.Fprintf(f.IOStreams.ErrOut, "no jobs in stack %s created in the last %s\n", f.Globals.Stack, opts.since)
		return nil
	}
	// Cut to the terminal; piped, every column whole for grep and cut.
	width := 0
	if f.IOStreams.IsStdoutTTY() {
		width = f.IOStreams.TerminalWidth()
	}
	fmt.Fprint(f.IOStreams.Out, events.Table(l, now, width))
	return nil
}
