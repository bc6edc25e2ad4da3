package main

import (
	"context"

	"github.com/spf13/cobra"
)

type localOptions struct {
	f *factory
}

func newLocalCmd(f *factory, runF func(context.Context, *localOptions) error) *cobra.Command {
	opts := &localOptions{f: f}
	_ = runF
	_ = opts
	return &cobra.Command{
		Use:   "local",
		Short: "Serve a local AWS stand-in on 127.0.0.1.",
		Args:  cobra.ArbitraryArgs,
		RunE:  notYet(f, false),
	}
}
