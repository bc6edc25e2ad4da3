package main

import (
	"context"

	"github.com/spf13/cobra"
)

type upOptions struct {
	f *factory
}

func newUpCmd(f *factory, runF func(context.Context, *upOptions) error) *cobra.Command {
	opts := &upOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "up",
		Short: "Create or converge the stack's AWS resources.",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, true),
	}
}
