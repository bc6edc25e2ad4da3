package provision_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/provision"
)

// cancelAfter is an HTTP client that cancels the up it serves once the
// stand-in has answered an operation, as a user's Ctrl-C would.
type cancelAfter struct {
	inner  aws.HTTPClient
	path   string
	cancel context.CancelFunc
	seen   bool
	mu     sync.Mutex
}

func (c *cancelAfter) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(r)
	if err == nil && strings.EqualFold(r.URL.Path, c.path) {
		c.mu.Lock()
		c.seen = true
		c.mu.Unlock()
		c.cancel()
	}
	return resp, err
}

// An up interrupted while the compute environment is created leaves it to
// go INVALID (its instance profile had not propagated): the next up
// recreates it, as the create path does, and the stack is whole.
func TestUpRepairsAnEnvironmentLeftInvalid(t *testing.T) {
	s := newStack(t, localaws.Options{IAMPropagation: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := &cancelAfter{inner: s.cfg.HTTPClient, path: "/v1/createcomputeenvironment", cancel: cancel}
	cfg := s.cfg.Copy()
	cfg.HTTPClient = cut
	interrupted := provision.New(cfg, s.names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}})
	if _, err := interrupted.Up(ctx, s.spec, false); err == nil {
		t.Fatal("the interrupted up succeeded")
	}
	if !cut.seen {
		t.Fatal("up was not interrupted after CreateComputeEnvironment")
	}
	// What the interrupted up left goes INVALID once it settles (the next
	// up's plan waits for that).
	if ce := describeCE(t, s); ce == nil || (ce.Status != batchtypes.CEStatusCreating && ce.Status != batchtypes.CEStatusInvalid) {
		t.Fatalf("the interrupted up left the compute environment %+v, want it CREATING or INVALID", ce)
	}

	rs, err := s.provisioner().Up(context.Background(), s.spec, false)
	if err != nil {
		t.Fatalf("up after the interrupted one: %v", err)
	}
	if a := actions(rs)["compute environment "+s.names.ComputeEnvironment]; a != provision.Update {
		t.Errorf("compute environment: %s, want update (recreated)", a)
	}
	if ce := describeCE(t, s); ce.Status != batchtypes.CEStatusValid {
		t.Errorf("compute environment after up: %s (%s), want VALID", ce.Status, aws.ToString(ce.StatusReason))
	}
}

// Two ups of one stack at once both succeed: a resource the other is
// still creating is waited for, not judged, and one the other created
// first is planned again.
func TestTwoUpsAtOnce(t *testing.T) {
	s := newStack(t, localaws.Options{ComputeEnvironmentDelay: 200 * time.Millisecond})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.provisioner().Up(context.Background(), s.spec, false)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("up %d: %v", i+1, err)
		}
	}
	rs, err := s.provisioner().Up(context.Background(), s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	for k, a := range actions(rs) {
		if a != provision.Unchanged {
			t.Errorf("after both ups, %s: %s, want unchanged", k, a)
		}
	}
}

// without404 fronts the stand-in like an endpoint without the service:
// every request signed for it is answered 404 with an HTML page, as moto
// answers X-Ray's sampling rules.
func without404(t *testing.T, s *stack, service string) aws.Config {
	t.Helper()
	target, err := url.Parse(s.srv.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), "/"+service+"/aws4_request") {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<!DOCTYPE html><html><title>404 Not Found</title></html>")
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	cfg := s.cfg.Copy()
	cfg.BaseEndpoint = aws.String(front.URL)
	// The clients take the loader's base endpoint from its sources first.
	cfg.ConfigSources = nil
	return cfg
}

// The sampling rule is optional: on an endpoint without X-Ray sampling
// rules up skips it and goes on, and down has nothing to delete there.
func TestUpAndDownWithoutXRaySamplingRules(t *testing.T) {
	s := newStack(t, localaws.Options{})
	cfg := without404(t, s, "xray")
	p := func() *provision.Provisioner {
		return provision.New(cfg, s.names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}})
	}
	rs, err := p().Up(context.Background(), s.spec, false)
	if err != nil {
		t.Fatalf("up without sampling rules: %v", err)
	}
	w := want(allResources(s.names), provision.Create)
	w["X-Ray sampling rule "+s.names.SamplingRule] = provision.Skipped
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("up (-want +got):\n%s", diff)
	}
	rs, err = p().Down(context.Background())
	if err != nil {
		t.Fatalf("down without sampling rules: %v", err)
	}
	if a := actions(rs)["X-Ray sampling rule "+s.names.SamplingRule]; a != provision.Absent {
		t.Errorf("down: sampling rule %s, want absent", a)
	}
}

func TestNotImplemented(t *testing.T) {
	s := newStack(t, localaws.Options{})
	_, err := xray.NewFromConfig(without404(t, s, "xray")).GetSamplingRules(context.Background(), &xray.GetSamplingRulesInput{})
	if !provision.NotImplemented(err) {
		t.Errorf("a 404 HTML page: NotImplemented(%v) = false", err)
	}
	_, err = xray.NewFromConfig(s.cfg).DeleteSamplingRule(context.Background(), &xray.DeleteSamplingRuleInput{RuleName: aws.String("none")})
	if err == nil || provision.NotImplemented(err) {
		t.Errorf("an AWS error: NotImplemented(%v) = true", err)
	}
	_, err = batch.NewFromConfig(s.cfg).DescribeJobs(context.Background(), &batch.DescribeJobsInput{})
	if err == nil || provision.NotImplemented(err) {
		t.Errorf("an AWS 4xx: NotImplemented(%v) = true", err)
	}
}

// submitStuck submits a job that stays RUNNABLE: it asks for more vCPUs
// than the compute environment has, which Batch never places.
func submitStuck(t *testing.T, cfg aws.Config, names provision.Names) string {
	t.Helper()
	out, err := batch.NewFromConfig(cfg).SubmitJob(context.Background(), &batch.SubmitJobInput{
		JobName: aws.String("stuck"), JobQueue: aws.String(names.JobQueue), JobDefinition: aws.String(names.JobDefinition),
		ContainerOverrides: &batchtypes.ContainerOverrides{ResourceRequirements: []batchtypes.ResourceRequirement{{Type: batchtypes.ResourceTypeVcpu, Value: aws.String("64")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.JobId)
}

// down lists the jobs that have not ended, terminates them, and waits for
// them to end before it deletes the queue; its result says how many.
func TestDownTerminatesTheQueuesJobs(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	id := submitStuck(t, s.cfg, s.names)
	jobs, err := s.provisioner().ActiveJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].ID != id {
		t.Fatalf("active jobs = %+v, want the job %s, which never leaves RUNNABLE", jobs, id)
	}
	rs, err := s.provisioner().Down(ctx)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	var detail string
	for _, r := range rs {
		if r.Kind == "job queue" {
			detail = r.Detail
		}
	}
	if detail != "1 job terminated" {
		t.Errorf("job queue's result detail = %q, want 1 job terminated", detail)
	}
	var terminated bool
	for _, c := range s.srv.Calls() {
		terminated = terminated || c.Operation == "TerminateJob"
		if c.Operation == "DeleteJobQueue" && !terminated {
			t.Fatal("the queue was deleted before its job was terminated")
		}
	}
	out, err := batch.NewFromConfig(s.cfg).DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Jobs) != 1 || out.Jobs[0].Status != batchtypes.JobStatusFailed || !strings.Contains(aws.ToString(out.Jobs[0].StatusReason), "batchxray down") {
		t.Errorf("the job after down: %+v, want FAILED by batchxray down", out.Jobs)
	}
}

// defaultNetwork is the stand-in's default subnets and default group.
func defaultNetwork(t *testing.T, cfg aws.Config) ([]string, string) {
	t.Helper()
	c := ec2.NewFromConfig(cfg)
	sn, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range sn.Subnets {
		ids = append(ids, aws.ToString(s.SubnetId))
	}
	sg, err := c.DescribeSecurityGroups(context.Background(), &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{"default"}}}})
	if err != nil || len(sg.SecurityGroups) != 1 {
		t.Fatalf("default group: %v %v", sg, err)
	}
	return ids, aws.ToString(sg.SecurityGroups[0].GroupId)
}

// --subnets and --security-group: the compute environment runs in the
// user's network and the stack makes no group of its own; changing the
// subnets later updates the compute environment; a subnet that does not
// exist stops up before anything is made.
func TestUpInTheUsersNetwork(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	subnets, group := defaultNetwork(t, s.cfg)
	if len(subnets) < 2 {
		t.Fatalf("the stand-in has %d subnets, want 2 or more", len(subnets))
	}

	bad := s.spec
	bad.Subnets = []string{subnets[0], "subnet-0123456789abcdef0"}
	if _, err := s.provisioner().Up(ctx, bad, false); err == nil || !strings.Contains(err.Error(), "--subnets: ") {
		t.Fatalf("up with a subnet that does not exist = %v, want a --subnets error", err)
	}
	if m := mutating(s.srv.Calls()); len(m) > 0 {
		t.Fatalf("up with a bad subnet made %v", m)
	}

	s.spec.Subnets, s.spec.SecurityGroup = subnets[:2], group
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := actions(rs)["security group "+group]; !ok || a != provision.Unchanged {
		t.Errorf("security group: %v, want the user's, unchanged", actions(rs))
	}
	for _, c := range s.srv.Calls() {
		if c.Operation == "CreateSecurityGroup" {
			t.Error("the stack made a security group of its own")
		}
	}
	ce := describeCE(t, s)
	if d := cmp.Diff(subnets[:2], ce.ComputeResources.Subnets); d != "" {
		t.Errorf("subnets (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{group}, ce.ComputeResources.SecurityGroupIds); d != "" {
		t.Errorf("security groups (-want +got):\n%s", d)
	}

	s.spec.Subnets = subnets[:1]
	rs, err = s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(rs)["compute environment "+s.names.ComputeEnvironment]; a != provision.Update {
		t.Errorf("compute environment after changed subnets: %s, want update", a)
	}
	if got := describeCE(t, s).ComputeResources.Subnets; !slices.Equal(got, subnets[:1]) {
		t.Errorf("subnets after the change: %v, want %v", got, subnets[:1])
	}
}

// --spot: a SPOT compute environment allocated SPOT_PRICE_CAPACITY_OPTIMIZED,
// with no Spot fleet role.
func TestUpSpot(t *testing.T) {
	s := newStack(t, localaws.Options{})
	s.spec.Spot = true
	if _, err := s.provisioner().Up(context.Background(), s.spec, false); err != nil {
		t.Fatal(err)
	}
	cr := describeCE(t, s).ComputeResources
	if cr.Type != batchtypes.CRTypeSpot || cr.AllocationStrategy != batchtypes.CRAllocationStrategySpotPriceCapacityOptimized || cr.SpotIamFleetRole != nil {
		t.Errorf("compute resources: type %s, allocation %s, fleet role %v; want SPOT, SPOT_PRICE_CAPACITY_OPTIMIZED, none", cr.Type, cr.AllocationStrategy, cr.SpotIamFleetRole)
	}
}

// An environment INVALID for its instance profile while the queue is in
// front of it (Batch will not delete it then) is repaired in place.
func TestUpRepairsAnInvalidEnvironmentBehindItsQueue(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	b := batch.NewFromConfig(s.cfg)
	if _, err := b.UpdateComputeEnvironment(ctx, &batch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String(s.names.ComputeEnvironment),
		ComputeResources: &batchtypes.ComputeResourceUpdate{InstanceRole: aws.String("arn:aws:iam::000000000000:instance-profile/gone")}}); err != nil {
		t.Fatal(err)
	}
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatalf("up on an INVALID environment behind its queue: %v", err)
	}
	if a := actions(rs)["compute environment "+s.names.ComputeEnvironment]; a != provision.Update {
		t.Errorf("compute environment: %s, want update", a)
	}
	if ce := describeCE(t, s); ce.Status != batchtypes.CEStatusValid {
		t.Errorf("compute environment after up: %s (%s), want VALID", ce.Status, aws.ToString(ce.StatusReason))
	}
}
