package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/provision"
)

type downOptions struct {
	f   *factory
	yes bool
	// waits bound Batch's waits; zero means provision's defaults.
	waits provision.WaitOptions
}

func newDownCmd(f *factory, runF func(context.Context, *downOptions) error) *cobra.Command {
	opts := &downOptions{f: f}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Delete every resource that carries the stack's tag.",
		Long: `Delete, in dependency order, every resource of the stack that carries the tag
batchxray:stack=<stack>: the queue and compute environment (disabled and
waited out first), job definitions, launch template, security group, bucket
(emptied), repository, sampling rule, log group, and the IAM roles last.
A same-named resource without the tag is reported and left alone.

Jobs in the queue that have not ended (SUBMITTED, PENDING, RUNNABLE,
STARTING, RUNNING) are listed first; on a terminal down asks before it
terminates them, with --yes it terminates them, and it waits for them to
end before the queue goes. Off a terminal down needs --yes (exit 2).`,
		Example: `  batchxray down
  batchxray down --stack team-a --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDown(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.yes, "yes", "y", false, "do not ask for confirmation (required when not on a terminal)")
	return cmd
}

func runDown(ctx context.Context, opts *downOptions) error {
	f := opts.f
	io := f.IOStreams
	if !opts.yes && !io.CanPrompt() {
		return usageErrorf("down deletes the whole stack: pass --yes to confirm when not on a terminal")
	}
	start := f.Now()
	sc, err := loadStack(ctx, f)
	if err != nil {
		return err
	}
	p, progress := newStackProvisioner(f, sc, opts.waits, false)
	jobs, err := p.ActiveJobs(ctx)
	if err != nil {
		progress.Close()
		return explainAWSError(err)
	}
	for _, j := range jobs {
		fmt.Fprintf(io.ErrOut, "job %s %s is %s\n", j.ID, j.Name, j.Status)
	}
	if !opts.yes {
		also := ""
		if len(jobs) > 0 {
			also = fmt.Sprintf(", terminating the %d jobs above", len(jobs))
		}
		fmt.Fprintf(io.ErrOut, "Delete every resource of stack %s in %s (account %s)%s? [y/N] ", sc.names.Stack, sc.cfg.Region, sc.account, also)
		answer, _ := bufio.NewReader(io.In).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			progress.Close()
			fmt.Fprintln(io.ErrOut, "nothing deleted")
			return nil
		}
	}
	fmt.Fprintf(io.ErrOut, "down stack %s in %s (account %s)\n", sc.names.Stack, sc.cfg.Region, sc.account)
	results, err := p.Down(ctx)
	progress.Close()
	if perr := printStackReport(io.Out, f.Globals.JSON(), false, sc, results); perr != nil {
		return perr
	}
	removed := 0
	for _, r := range results {
		if r.Action == provision.Delete {
			removed++
		}
	}
	if err == nil && removed == 0 {
		fmt.Fprintf(io.ErrOut, "nothing to remove: stack %s has no resources in %s\n", sc.names.Stack, sc.cfg.Region)
		return nil
	}
	fmt.Fprintln(io.ErrOut, summary("down", results, f.Now().Sub(start), err))
	if err != nil {
		return fmt.Errorf("down: %w", explainAWSError(err))
	}
	return nil
}
