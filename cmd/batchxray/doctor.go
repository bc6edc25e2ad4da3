package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/doctor"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/ui"
)

type doctorOptions struct {
	f *factory
}

func newDoctorCmd(f *factory, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{f: f}
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check what the account and the stack need, one line each.",
		Long: `Check the credentials and region, Batch's service-linked role, the network,
the stack's resources and their states, the stack's tracing agent and
tracer, and where X-Ray sends traces (and, with Transaction Search, how many
it indexes). Each check is one line, ✓ or ✗ with what to do; ! is a passing
check with a warning, such as the X-Ray daemon's and SDK's end of support
(2027-02-25). Exit 0 when every check passes, 1 otherwise. It changes
nothing.`,
		Example: `  batchxray doctor
  batchxray doctor --stack team-a --output json | jq '.checks[] | select(.ok | not)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDoctor(cmd.Context(), opts)
		},
	}
}

func runDoctor(ctx context.Context, opts *doctorOptions) error {
	f := opts.f
	io := f.IOStreams
	if err := provision.ValidateStack(f.Globals.Stack); err != nil {
		return &usageError{fmt.Errorf("%w (--stack or BATCHXRAY_STACK)", err)}
	}
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return err
	}
	if err := provision.ValidateRegion(cfg.Region); err != nil {
		return &usageError{fmt.Errorf("%w (--region or AWS_REGION)", err)}
	}
	r := doctor.Run(ctx, cfg, f.Globals.Stack)
	if f.Globals.JSON() {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		s := ui.NewStyles(io.Out, io.ColorEnabled())
		for _, c := range r.Checks {
			line := s.OK.Render(ui.GlyphOK) + " " + c.Name + ": " + c.Detail
			switch {
			case c.OK && c.Warning != "":
				line = s.Warn.Render(ui.GlyphWarn) + " " + c.Name + ": " + c.Detail + ": " + c.Warning
			case !c.OK:
				line = s.Failed.Render(ui.GlyphFailed) + " " + c.Name + ": " + c.Detail
				if c.Fix != "" {
					line += ": " + c.Fix
				}
			}
			fmt.Fprintln(io.Out, line)
		}
	}
	if !r.OK {
		// The failed checks say it all: exit 1, nothing more printed.
		return &passthroughError{code: exitError}
	}
	return nil
}
