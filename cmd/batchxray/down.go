package main

import (
	"context"

	"github.com/spf13/cobra"
)

type downOptions struct {
	f *factory
}

func newDownCmd(f *factory, runF func(context.Context, *downOptions) error) *cobra.Command {
	opts := &downOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "down",
		Short: "Delete every resource that carries the stack's tag.",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, true),
	}
}
