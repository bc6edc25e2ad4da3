package main

import (
	"context"

	"github.com/spf13/cobra"
)

type jobOptions struct {
	f *factory
}

func newJobCmd(f *factory, runF func(context.Context, *jobOptions) error) *cobra.Command {
	opts := &jobOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "job",
		Short: "Run the traced job (inside the Batch container).",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, false),
	}
}
