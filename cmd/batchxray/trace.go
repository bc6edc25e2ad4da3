package main

import (
	"context"

	"github.com/spf13/cobra"
)

type traceOptions struct {
	f *factory
}

func newTraceCmd(f *factory, runF func(context.Context, *traceOptions) error) *cobra.Command {
	opts := &traceOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "trace",
		Short: "Find a job's X-Ray trace and draw it in the terminal.",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, true),
	}
}
