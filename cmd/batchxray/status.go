package main

import (
	"context"

	"github.com/spf13/cobra"
)

type statusOptions struct {
	f *factory
}

func newStatusCmd(f *factory, runF func(context.Context, *statusOptions) error) *cobra.Command {
	opts := &statusOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "status",
		Short: "Follow jobs until they SUCCEED or FAIL.",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, true),
	}
}
