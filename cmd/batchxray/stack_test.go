package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// An endpoint without an operation batchxray calls (another AWS stand-in)
// is named, with the operation, in one line.
func TestExplainNotImplemented(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	t.Setenv("AWS_ENDPOINT_URL", "http://stand-in.example")
	_, err := iam.NewFromConfig(cfg).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err == nil {
		t.Fatal("ListUsers succeeded; the test needs an operation the stand-in does not serve")
	}
	got := explainAWSError(err).Error()
	if want := "http://stand-in.example does not implement IAM ListUsers, which batchxray needs"; !strings.HasPrefix(got, want) {
		t.Errorf("explained: %q, want it to start with %q", got, want)
	}
}

func TestExplainLeavesOtherErrors(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	_, err := iam.NewFromConfig(cfg).GetRole(context.Background(), &iam.GetRoleInput{RoleName: new("nobody")})
	if err == nil || explainAWSError(err) != err {
		t.Errorf("explainAWSError changed %v", err)
	}
}
