package jobs

import (
	"context"
	"fmt"
)

// CheckDependsOn looks up the jobs a new job is to depend on, before it is
// submitted: one Batch does not know is a *NotFoundError (exit 4) naming
// it. SubmitJob would refuse it too, but with a ClientException whose
// words are all that says why, which is the same error as for any other
// rejected submission (exit 1). No IDs, no call.
func CheckDependsOn(ctx context.Context, c DescribeJobsAPI, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, unknown, err := Describe(ctx, c, ids)
	if err != nil {
		return fmt.Errorf("look up the jobs to depend on: %w", err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("dependency %w", &NotFoundError{IDs: unknown})
	}
	return nil
}
