package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/ui"
)

type submitOptions struct {
	f *factory

	spec         jobs.Spec
	wait         bool
	maxWait      time.Duration
	explainAfter time.Duration
}

// defaultJobName names a job when --name is not given.
const defaultJobName = "batchxray"

func newSubmitCmd(f *factory, runF func(context.Context, *submitOptions) error) *cobra.Command {
	opts := &submitOptions{f: f}
	s := &opts.spec
	cmd := &cobra.Command{
		Use:   "submit [flags] [-- CMD ARGS...]",
		Short: "Submit a job to the stack's queue and print its ID.",
		Long: `Submit a job to the stack's job queue with the stack's job definition and
print its ID on stdout, and nothing else. The job runs the sample work
(an HTTP GET and an S3 upload, traced), or with -- CMD ARGS your own
command under tracing.

--wait follows the job to the end: a live line on a terminal, one line per
transition otherwise, then a summary. It exits 0 when the job SUCCEEDED,
3 when it FAILED, 124 when --max-wait runs out and 130 on Ctrl-C (on a
terminal it asks whether to terminate the job; otherwise the job is left
running).`,
		Example: `  id=$(batchxray submit) && batchxray status "$id" && batchxray trace "$id"
  batchxray submit --wait --name nightly -- python3 /app/etl.py --day 2026-11-24
  batchxray submit --array-size 50 --env STAGE=test --wait
  a=$(batchxray submit --name extract) && batchxray submit --name load --depends-on "$a" --wait`,
		Args: commandAfterDash,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() == 0 {
				s.Command = args
			}
			fl := cmd.Flags()
			if fl.Changed("array-size") && s.ArraySize == 0 {
				return usageErrorf("invalid --array-size 0: from %d to %d", jobs.MinArraySize, jobs.MaxArraySize)
			}
			if fl.Changed("retries") && s.Attempts == 0 {
				return usageErrorf("invalid --retries 0: Batch makes from %d to %d attempts", jobs.MinAttempts, jobs.MaxAttempts)
			}
			if opts.maxWait <= 0 {
				return usageErrorf("invalid --max-wait %s: must be positive", opts.maxWait)
			}
			if err := s.Validate(); err != nil {
				return &usageError{err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSubmit(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&s.Name, "name", defaultJobName, "the job's name: 1 to 128 letters, digits, hyphens and underscores")
	fl.IntVar(&s.ArraySize, "array-size", 0, "run an array job of this many children (2 to 10000)")
	fl.StringArrayVar(&s.DependsOn, "depends-on", nil, "start only after this job SUCCEEDED; repeat for several")
	fl.StringArrayVar(&s.Env, "env", nil, "set K=V in the job's environment; repeat for several (AWS_BATCH* is reserved)")
	fl.DurationVar(&s.Timeout, "timeout", 0, "each attempt's time limit, at least 1m (default: the job definition's)")
	fl.IntVar(&s.Attempts, "retries", 0, "attempts Batch makes before the job FAILS, 1 to 10 (default: 1)")
	fl.Float64Var(&s.VCPUs, "vcpus", 0, "vCPUs the job asks for (default: the job definition's)")
	fl.IntVar(&s.MemoryMiB, "memory", 0, "memory the job asks for, in MiB (default: the job definition's)")
	fl.StringVar(&s.URL, "url", "", "the URL the sample work fetches (default: the stack's)")
	fl.BoolVar(&opts.wait, "wait", false, "follow the job to the end and exit with its outcome")
	fl.DurationVar(&opts.maxWait, "max-wait", 24*time.Hour, "with --wait, give up after this long (exit 124; the job keeps running)")
	fl.DurationVar(&opts.explainAfter, "explain-after", jobs.RunnableHint, "with --wait, explain why the job waits in RUNNABLE once it has for this long")
	return cmd
}

func runSubmit(ctx context.Context, opts *submitOptions) error {
	f := opts.f
	ios := f.IOStreams
	sc, err := loadStack(ctx, f)
	if err != nil {
		return err
	}
	spec := opts.spec
	spec.Stack, spec.Region, spec.TagKey = sc.names.Stack, sc.cfg.Region, provision.TagKey
	spec.Queue, spec.Definition = sc.names.JobQueue, sc.names.JobDefinition
	c := batch.NewFromConfig(sc.cfg)
	if err := jobs.CheckDependsOn(ctx, c, spec.DependsOn); err != nil {
		return explainAWSError(err)
	}
	sub, err := jobs.Submit(ctx, c, spec, jobs.SubmitOptions{XRay: xray.NewFromConfig(sc.cfg), Now: f.Now})
	if err != nil {
		return explainAWSError(err)
	}
	if sub.SegmentErr != nil {
		fmt.Fprintf(ios.ErrOut, "warning: %s\n", sub.SegmentErr)
	}
	if f.Globals.JSON() {
		if err := json.NewEncoder(ios.Out).Encode(sub); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(ios.Out, sub.ID)
	}
	if !opts.wait {
		return nil
	}
	fmt.Fprintf(ios.ErrOut, "submitted %s (%s) to %s; following it (Ctrl-C to stop)\n", sub.Name, sub.ID, spec.Queue)
	js, err := jobs.Follow(ctx, c, []string{sub.ID}, jobs.FollowOptions{
		Submitted: true, MaxWait: opts.maxWait, ExplainAfter: opts.explainAfter,
		IO: ios, Now: f.Now, Log: f.Logger(),
		History: events.Log{Client: cloudwatchlogs.NewFromConfig(sc.cfg), Group: events.GroupFor(sc.names.Stack)},
	})
	if errors.Is(err, context.Canceled) {
		return interrupted(ctx, f, c, sub, err)
	}
	// A job that ended, FAILED or not, is summed up; one the wait gave up
	// on too, when it was seen at all.
	if len(js) > 0 && js[0].Status != "" {
		fmt.Fprint(ios.ErrOut, jobs.Summary(js[0], f.Now(), ui.NewStyles(ios.ErrOut, ios.ColorEnabledStderr())))
	}
	var fe *jobs.FailedError
	if err != nil && !errors.As(err, &fe) {
		fmt.Fprintf(ios.ErrOut, "job %s is left as it is: follow it with batchxray status %s\n", sub.ID, sub.ID)
	}
	return err
}

// interrupted handles Ctrl-C during --wait: on a terminal the user says
// whether to terminate the job; otherwise it keeps running. Either way the
// exit code is 130.
func interrupted(ctx context.Context, f *factory, c *batch.Client, sub jobs.Submission, cause error) error {
	ios := f.IOStreams
	if !ios.CanPrompt() {
		fmt.Fprintf(ios.ErrOut, "\ninterrupted: job %s keeps running; follow it with batchxray status %s\n", sub.ID, sub.ID)
		return cause
	}
	if !ios.Confirm(fmt.Sprintf("\nterminate job %s (%s)?", sub.Name, sub.ID)) {
		fmt.Fprintf(ios.ErrOut, "job %s keeps running; follow it with batchxray status %s\n", sub.ID, sub.ID)
		return cause
	}
	if err := jobs.Terminate(ctx, c, sub.ID, "terminated with Ctrl-C in batchxray submit --wait"); err != nil {
		return errors.Join(cause, fmt.Errorf("terminate job %s: %w", sub.ID, explainAWSError(err)))
	}
	fmt.Fprintf(ios.ErrOut, "terminated job %s\n", sub.ID)
	return cause
}
