package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

const defaultStack = "batch-xray"

// execute runs the command line and returns the process's exit code. Errors
// are printed here, once; usage is printed only for usage errors.
func execute(ctx context.Context, f *factory, args []string) int {
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	// Anything cobra rejects before our pre-run hook (unknown command,
	// wrong number of arguments, bad flag) is a usage error.
	if !f.reachedRun {
		var ue *usageError
		if !errors.As(err, &ue) {
			err = &usageError{err}
		}
	}
	printError(f.IOStreams.ErrOut, err)
	var ue *usageError
	if errors.As(err, &ue) && cmd != nil {
		fmt.Fprintf(f.IOStreams.ErrOut, "\n%s", cmd.UsageString())
	}
	return exitCode(err)
}

func newRootCmd(f *factory) *cobra.Command {
	g := f.Globals
	root := &cobra.Command{
		Use:   "batchxray",
		Short: "See inside your AWS Batch jobs with AWS X-Ray tracing.",
		Long: `batchxray provisions an AWS Batch stack whose hosts run the X-Ray daemon,
submits jobs and follows them, and draws each job's trace in the terminal.
The same binary runs inside the container as the traced job, and
'batchxray local' serves a local AWS stand-in so everything runs without an
account.`,
		Example: `  # Try it with no AWS account: run the local stand-in in one terminal,
  batchxray local
  # then, in another, with the variables it prints exported:
  batchxray up
  id=$(batchxray submit) && batchxray status "$id" && batchxray trace "$id"
  batchxray down --yes`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			f.reachedRun = true
			if g.Output != outputText && g.Output != outputJSON && (g.Output != outputOTLP || cmd.Name() != "trace") {
				return usageErrorf("invalid --output %q: want text or json", g.Output)
			}
			if g.NoColor {
				f.IOStreams.SetNoColor(true)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(flagErrorFunc)

	stack := os.Getenv("BATCHXRAY_STACK")
	if stack == "" {
		stack = defaultStack
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.Stack, "stack", stack, "stack name every resource name derives from (env BATCHXRAY_STACK)")
	pf.StringVar(&g.Region, "region", "", "AWS region (default: the standard AWS chain, AWS_REGION)")
	pf.StringVar(&g.Profile, "profile", "", "AWS shared config profile (default: AWS_PROFILE)")
	pf.StringVarP(&g.Output, "output", "o", outputText, "output format: text or json")
	pf.BoolVar(&g.NoColor, "no-color", false, "never use colour (also NO_COLOR set to anything but empty, or TERM=dumb)")
	pf.BoolVar(&g.Debug, "debug", false, "log AWS requests, retries and internal steps on stderr")

	root.AddCommand(
		newUpCmd(f, nil),
		newDownCmd(f, nil),
		newSubmitCmd(f, nil),
		newStatusCmd(f, nil),
		newTraceCmd(f, nil),
		newLogsCmd(f, nil),
		newJobsCmd(f, nil),
		newReportCmd(f, nil),
		newJobCmd(f, nil),
		newLocalCmd(f, nil),
		newVersionCmd(f, nil),
		newDoctorCmd(f, nil),
	)
	return root
}
