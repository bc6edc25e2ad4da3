package main

import (
	"context"

	"github.com/spf13/cobra"
)

type submitOptions struct {
	f *factory
}

func newSubmitCmd(f *factory, runF func(context.Context, *submitOptions) error) *cobra.Command {
	opts := &submitOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "submit",
		Short: "Submit a job to the stack's queue and print its ID.",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, true),
	}
}
