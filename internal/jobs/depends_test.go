package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/smithy-go"
)

// TestCheckDependsOn, against the stand-in: a known job passes, an
// unknown one is a *NotFoundError naming it (exit 4), where SubmitJob
// would only answer a ClientException.
func TestCheckDependsOn(t *testing.T) {
	s := startStandIn(t, 4)
	ctx := context.Background()
	sub, err := Submit(ctx, s.c, s.spec, SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckDependsOn(ctx, s.c, []string{sub.ID}); err != nil {
		t.Errorf("CheckDependsOn(known job) = %v", err)
	}
	err = CheckDependsOn(ctx, s.c, []string{sub.ID, "no-such-job"})
	var nf *NotFoundError
	if !errors.As(err, &nf) || !nf.NotFound() || len(nf.IDs) != 1 || nf.IDs[0] != "no-such-job" {
		t.Fatalf("CheckDependsOn(unknown job) = %v, want a NotFoundError for no-such-job", err)
	}
	if !strings.Contains(err.Error(), "no-such-job") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %q, want one line naming the job", err)
	}
	// What the check spares the user: Batch's own answer is a
	// ClientException, nothing that tells it from any other refusal.
	spec := s.spec
	spec.DependsOn = []string{"no-such-job"}
	_, err = Submit(ctx, s.c, spec, SubmitOptions{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ClientException" {
		t.Errorf("Submit with an unknown dependency = %v, want a ClientException", err)
	}
}

// TestCheckDependsOnNone: no dependency, no call.
func TestCheckDependsOnNone(t *testing.T) {
	if err := CheckDependsOn(context.Background(), noCalls{t}, nil); err != nil {
		t.Fatal(err)
	}
}

type noCalls struct{ t *testing.T }

func (n noCalls) DescribeJobs(context.Context, *batch.DescribeJobsInput, ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	n.t.Error("DescribeJobs called")
	return &batch.DescribeJobsOutput{}, nil
}
