package provision_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/provision"
)

func describeCE(t *testing.T, s *stack) *batchtypes.ComputeEnvironmentDetail {
	t.Helper()
	out, err := batch.NewFromConfig(s.cfg).DescribeComputeEnvironments(context.Background(), &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{s.names.ComputeEnvironment}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ComputeEnvironments) == 0 {
		return nil
	}
	return &out.ComputeEnvironments[0]
}

// Down disables the compute environment while the queue goes; when the
// queue cannot be deleted, the environment is left (disabled), nothing
// after it is touched, and a second down finishes the job.
func TestDownWhenTheQueueCannotBeDeleted(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	s.srv.InjectFault("batch", "DeleteJobQueue", awsproto.Errorf(http.StatusInternalServerError, "ServerException", "injected"), 1)
	rs, err := s.provisioner().Down(ctx)
	if err == nil || !strings.Contains(err.Error(), "injected") || !strings.Contains(err.Error(), "job queue in front of it is still there") {
		t.Fatalf("down with a failing DeleteJobQueue = %v, want the injected error and the compute environment left", err)
	}
	if len(rs) != 0 {
		t.Errorf("down touched %v, want nothing past the queue", actions(rs))
	}
	ce := describeCE(t, s)
	if ce == nil || ce.State != batchtypes.CEStateDisabled {
		t.Fatalf("compute environment after the failed down: %+v, want it there and DISABLED", ce)
	}

	rs, err = s.provisioner().Down(ctx)
	if err != nil {
		t.Fatalf("second down: %v", err)
	}
	w := want(allResources(s.names), provision.Delete)
	delete(w, "job image "+s.names.Repository)
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("second down (-want +got):\n%s", diff)
	}
}

// A queue with the stack's name that is not the stack's stops down before
// the compute environment is touched: it stays ENABLED.
func TestDownStopsAtAQueueThatIsNotOurs(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	var queueARN string
	for _, r := range rs {
		if r.Kind == "job queue" {
			queueARN = r.ARN
		}
	}
	if _, err := batch.NewFromConfig(s.cfg).UntagResource(ctx, &batch.UntagResourceInput{ResourceArn: aws.String(queueARN), TagKeys: []string{provision.TagKey}}); err != nil {
		t.Fatal(err)
	}
	s.srv.ResetCalls()
	rs, err = s.provisioner().Down(ctx)
	var no *provision.NotOursError
	if !errors.As(err, &no) || no.Kind != "job queue" {
		t.Fatalf("down = %v, want a NotOursError for the queue", err)
	}
	if diff := cmp.Diff(map[string]provision.Action{"job queue " + s.names.JobQueue: provision.NotOurs}, actions(rs)); diff != "" {
		t.Errorf("down (-want +got):\n%s", diff)
	}
	if m := mutating(s.srv.Calls()); len(m) > 0 {
		t.Errorf("down made mutating calls: %v", m)
	}
	if ce := describeCE(t, s); ce == nil || ce.State != batchtypes.CEStateEnabled {
		t.Errorf("compute environment: %+v, want it ENABLED", ce)
	}
}
