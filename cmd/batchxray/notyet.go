package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// notYet is the body of a command that is registered but not built yet: it
// says so and exits 1 rather than doing nothing. Commands that will talk to
// AWS load the configuration first, as the real command will, so the
// credential and region errors are already the user's contract.
func notYet(f *factory, needsAWS bool) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if needsAWS {
			if _, err := f.AWSConfig(cmd.Context()); err != nil {
				return err
			}
		}
		return fmt.Errorf("%s: not built yet in this version", cmd.CommandPath())
	}
}
