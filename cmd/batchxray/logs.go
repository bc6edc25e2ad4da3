package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/joblogs"
)

type logsOptions struct {
	f *factory

	id      string
	attempt int
	index   int
	since   time.Duration
	tail    int
	follow  bool
	maxWait time.Duration
}

func newLogsCmd(f *factory, runF func(context.Context, *logsOptions) error) *cobra.Command {
	opts := &logsOptions{f: f}
	cmd := &cobra.Command{
		Use:   "logs JOB_ID",
		Short: "Print a job's output from CloudWatch Logs.",
		Long: `Print a job's output, exactly as it wrote it, from CloudWatch Logs: the
latest attempt, or --attempt N; --index N for a child of an array job.
--follow keeps printing a running job's output, attempt after attempt,
until the job ends.

Exit status: 0; with --follow, 0 when the job SUCCEEDED and 3 when it
FAILED; 4 when the job or attempt is unknown; 124 when --max-wait runs out.`,
		Example: `  batchxray logs "$id"
  batchxray logs "$id" --attempt 1 --tail 20
  batchxray logs "$id" --index 7 --output json | jq -r .message
  id=$(batchxray submit) && batchxray logs --follow "$id"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			switch {
			case opts.attempt < 0:
				return usageErrorf("invalid --attempt %d: attempts count from 1", opts.attempt)
			case cmd.Flags().Changed("index") && opts.index < 0:
				return usageErrorf("invalid --index %d: must be 0 or more", opts.index)
			case opts.tail < 0:
				return usageErrorf("invalid --tail %d: must be 0 or more", opts.tail)
			case opts.since < 0:
				return usageErrorf("invalid --since %s: must be positive", opts.since)
			case opts.maxWait <= 0:
				return usageErrorf("invalid --max-wait %s: must be positive", opts.maxWait)
			}
			if !cmd.Flags().Changed("index") {
				opts.index = -1
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLogs(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.attempt, "attempt", 0, "the attempt to print, from 1 (default the latest)")
	fl.IntVar(&opts.index, "index", 0, "the array child to print")
	fl.DurationVar(&opts.since, "since", 0, "only lines written in this last while (10m, 2h)")
	fl.IntVar(&opts.tail, "tail", 0, "only the last N lines")
	fl.BoolVarP(&opts.follow, "follow", "f", false, "keep printing until the job ends, and exit with its outcome")
	fl.DurationVar(&opts.maxWait, "max-wait", joblogs.DefaultMaxWait, "with --follow, give up after this long (exit 124)")
	return cmd
}

func runLogs(ctx context.Context, opts *logsOptions) error {
	f := opts.f
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return err
	}
	o := joblogs.Options{Attempt: opts.attempt, Tail: opts.tail, Follow: opts.follow, MaxWait: opts.maxWait,
		OnWait: func(why string) { fmt.Fprintf(f.IOStreams.ErrOut, "waiting for job %s: %s\n", opts.id, why) }}
	if opts.index >= 0 {
		o.Index = &opts.index
	}
	if opts.since > 0 {
		o.Since = f.Now().Add(-opts.since)
	}
	out := bufio.NewWriterSize(f.IOStreams.Out, 64<<10)
	enc := json.NewEncoder(out)
	emit := func(lines []joblogs.Line) error {
		for _, l := range lines {
			if f.Globals.JSON() {
				if err := enc.Encode(l); err != nil {
					return err
				}
			} else {
				if _, err := out.WriteString(l.Message + "\n"); err != nil {
					return err
				}
			}
		}
		// A page at a time, so a followed job's lines show as they come.
		return out.Flush()
	}
	_, err = joblogs.Read(ctx, batch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg), opts.id, o, emit)
	return explainAWSError(err)
}
