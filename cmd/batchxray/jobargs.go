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
