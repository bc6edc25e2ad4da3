package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// jobIDArgs rejects an empty job ID (`trace ""`, `status "$unset"`): Batch
// would only answer it with a ClientException, after a call.
func jobIDArgs(_ *cobra.Command, args []string) error {
	for _, a := range args {
		if strings.TrimSpace(a) == "" {
			return usageErrorf("invalid job ID %q: it is empty", a)
		}
	}
	return nil
}

// commandAfterDash accepts no arguments, or a command after `--` (submit's
// and job's `-- CMD ARGS...`), with one line for each way to get it wrong.
func commandAfterDash(cmd *cobra.Command, args []string) error {
	dash := cmd.ArgsLenAtDash()
	switch {
	case dash < 0 && len(args) > 0:
		return usageErrorf("unexpected argument %q: put the command to run after --", args[0])
	case dash > 0:
		return usageErrorf("unexpected argument %q before --", args[0])
	case dash == 0 && len(args) == 0:
		return usageErrorf("no command after --")
	}
	return nil
}
