package provision_test

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/provision"
)

// fakeELF is the smallest ELF header image.CheckBinary accepts.
func fakeELF() []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(b[18:], uint16(elf.EM_X86_64))
	binary.LittleEndian.PutUint32(b[20:], 1)
	binary.LittleEndian.PutUint16(b[52:], 64)
	binary.LittleEndian.PutUint16(b[54:], 56)
	binary.LittleEndian.PutUint16(b[58:], 64)
	return b
}

const account = "000000000000"

type stack struct {
	srv   *localaws.Server
	cfg   aws.Config
	names provision.Names
	spec  provision.Spec
}

// newStack starts a stand-in whose Batch settles quickly, and a spec whose
// image is built from a fake binary and pushed to the stand-in's registry.
func newStack(t testing.TB, opts localaws.Options) *stack {
	t.Helper()
	if opts.ComputeEnvironmentDelay == 0 {
		opts.ComputeEnvironmentDelay = 20 * time.Millisecond
	}
	srv, cfg := localawstest.Start(t, opts)
	names, err := provision.NamesFor("test", account, cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{srv: srv, cfg: cfg, names: names, spec: provision.Spec{
		Partition: "aws", Arch: "x86_64", InstanceTypes: []string{"optimal"}, MaxVCPUs: 4,
		JobVCPUs: 1, JobMemoryMiB: 512, JobTimeout: time.Hour, LogRetentionDays: 30,
		Publisher: &image.Publisher{Binary: fakeELF(), Arch: "amd64", CABundle: []byte("ca")},
		SampleURL: "http://example.invalid/",
	}}
}

func (s *stack) provisioner() *provision.Provisioner {
	return provision.New(s.cfg, s.names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}})
}

func actions(rs []provision.Result) map[string]provision.Action {
	m := map[string]provision.Action{}
	for _, r := range rs {
		m[r.Kind+" "+r.Name] = r.Action
	}
	return m
}

func mutating(calls []localaws.Call) []localaws.Call {
	return slices.DeleteFunc(calls, func(c localaws.Call) bool { return !c.Mutating() })
}

// allResources are the resources of a stack named test.
func allResources(n provision.Names) []string {
	return []string{
		"IAM role " + n.InstanceRole, "IAM instance profile " + n.InstanceProfile, "IAM role " + n.JobRole,
		"S3 bucket " + n.Bucket, "log group " + n.LogGroup, "ECR repository " + n.Repository, "job image " + n.Repository,
		"security group " + n.SecurityGroup, "launch template " + n.LaunchTemplate, "X-Ray sampling rule " + n.SamplingRule,
		"compute environment " + n.ComputeEnvironment, "job queue " + n.JobQueue, "job definition " + n.JobDefinition,
		"log group " + n.EventsLogGroup, "log resource policy " + n.EventsPolicy, "EventBridge rule " + n.EventsRule,
	}
}

func want(keys []string, a provision.Action) map[string]provision.Action {
	m := map[string]provision.Action{}
	for _, k := range keys {
		m[k] = a
	}
	return m
}

func TestUpFromNothingThenUnchanged(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()

	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatalf("first up: %v", err)
	}
	if diff := cmp.Diff(want(allResources(s.names), provision.Create), actions(rs)); diff != "" {
		t.Errorf("first up (-want +got):\n%s", diff)
	}

	s.srv.ResetCalls()
	rs, err = s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatalf("second up: %v", err)
	}
	if diff := cmp.Diff(want(allResources(s.names), provision.Unchanged), actions(rs)); diff != "" {
		t.Errorf("second up (-want +got):\n%s", diff)
	}
	if m := mutating(s.srv.Calls()); len(m) > 0 {
		t.Errorf("second up made mutating calls: %v", m)
	}
	if len(s.srv.Calls()) == 0 {
		t.Error("second up made no calls at all: the counter is broken")
	}
}

func TestUpConvergesAChangedFlag(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	s.spec.MaxVCPUs, s.spec.JobMemoryMiB, s.spec.DaemonVersion = 8, 1024, "3.3.13"
	s.srv.ResetCalls()
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	w := want(allResources(s.names), provision.Unchanged)
	for _, k := range []string{"compute environment " + s.names.ComputeEnvironment, "job definition " + s.names.JobDefinition, "launch template " + s.names.LaunchTemplate} {
		w[k] = provision.Update
	}
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("up after changed flags (-want +got):\n%s", diff)
	}
	var ops []string
	for _, c := range mutating(s.srv.Calls()) {
		ops = append(ops, c.Operation)
	}
	slices.Sort(ops)
	if diff := cmp.Diff([]string{"CreateLaunchTemplateVersion", "DeregisterJobDefinition", "ModifyLaunchTemplate", "RegisterJobDefinition", "UpdateComputeEnvironment"}, ops); diff != "" {
		t.Errorf("mutating calls (-want +got):\n%s", diff)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	s := newStack(t, localaws.Options{})
	rs, err := s.provisioner().Up(context.Background(), s.spec, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(allResources(s.names), provision.Create), actions(rs)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if m := mutating(s.srv.Calls()); len(m) > 0 {
		t.Errorf("dry run made mutating calls: %v", m)
	}
}

func TestUpAfterFailureMidwayThenDown(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	s.srv.InjectFault("batch", "CreateJobQueue", awsproto.Errorf(http.StatusInternalServerError, "ServerException", "injected"), 1)
	_, err := s.provisioner().Up(ctx, s.spec, false)
	if err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("up with a failing CreateJobQueue = %v, want the injected error", err)
	}
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatalf("up again: %v", err)
	}
	w := want(allResources(s.names), provision.Unchanged)
	w["job queue "+s.names.JobQueue] = provision.Create
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("up again (-want +got):\n%s", diff)
	}
}

func TestDownAfterPartialUp(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	s.srv.InjectFault("batch", "CreateComputeEnvironment", awsproto.Errorf(http.StatusBadRequest, "ClientException", "injected refusal"), 1)
	if _, err := s.provisioner().Up(ctx, s.spec, false); err == nil {
		t.Fatal("up with a refused compute environment succeeded")
	}
	rs, err := s.provisioner().Down(ctx)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	w := want(allResources(s.names), provision.Delete)
	delete(w, "job image "+s.names.Repository)
	w["compute environment "+s.names.ComputeEnvironment] = provision.Absent
	w["job queue "+s.names.JobQueue] = provision.Absent
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("down after partial up (-want +got):\n%s", diff)
	}
}

func TestDownTwice(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	// Something in the bucket: down must empty it first.
	if _, err := s3.NewFromConfig(s.cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: &s.names.Bucket, Key: aws.String("jobs/x/out"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	rs, err := s.provisioner().Down(ctx)
	if err != nil {
		t.Fatalf("first down: %v", err)
	}
	w := want(allResources(s.names), provision.Delete)
	delete(w, "job image "+s.names.Repository)
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("first down (-want +got):\n%s", diff)
	}
	s.srv.ResetCalls()
	rs, err = s.provisioner().Down(ctx)
	if err != nil {
		t.Fatalf("second down: %v", err)
	}
	w = want(allResources(s.names), provision.Absent)
	delete(w, "job image "+s.names.Repository)
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("second down (-want +got):\n%s", diff)
	}
	if m := mutating(s.srv.Calls()); len(m) > 0 {
		t.Errorf("second down made mutating calls: %v", m)
	}
}

func TestDownLeavesUntaggedSameNamedResource(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	// Someone else's security group with the stack's group name, in
	// another VPC than ours is impossible here, so take ours' tag away
	// instead: down must then treat it as someone else's.
	c := ec2.NewFromConfig(s.cfg)
	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{s.names.SecurityGroup}}}})
	if err != nil || len(out.SecurityGroups) != 1 {
		t.Fatalf("find the group: %v %v", out, err)
	}
	if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{aws.ToString(out.SecurityGroups[0].GroupId)}, Tags: []ec2types.Tag{{Key: aws.String(provision.TagKey)}}}); err != nil {
		t.Fatal(err)
	}
	rs, err := s.provisioner().Down(ctx)
	var no *provision.NotOursError
	if !errors.As(err, &no) || no.Kind != "security group" {
		t.Fatalf("down = %v, want a NotOursError for the security group", err)
	}
	a := actions(rs)
	if a["security group "+s.names.SecurityGroup] != provision.NotOurs || a["compute environment "+s.names.ComputeEnvironment] != provision.Delete || a["IAM role "+s.names.JobRole] != provision.Delete {
		t.Errorf("down actions: %v", a)
	}
	left, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{aws.ToString(out.SecurityGroups[0].GroupId)}})
	if err != nil || len(left.SecurityGroups) != 1 {
		t.Errorf("the untagged group is gone: %v %v", left, err)
	}
	// And up refuses to adopt it.
	if _, err := s.provisioner().Up(ctx, s.spec, false); !errors.As(err, &no) {
		t.Errorf("up next to an untagged group = %v, want a NotOursError", err)
	}
}

func TestUpWaitsForIAMPropagation(t *testing.T) {
	s := newStack(t, localaws.Options{IAMPropagation: 300 * time.Millisecond})
	rs, err := s.provisioner().Up(context.Background(), s.spec, false)
	if err != nil {
		t.Fatalf("up while IAM propagates: %v", err)
	}
	if a := actions(rs)["compute environment "+s.names.ComputeEnvironment]; a != provision.Create {
		t.Errorf("compute environment: %s, want create", a)
	}
	var creates int
	for _, c := range s.srv.Calls() {
		if c.Operation == "CreateComputeEnvironment" {
			creates++
		}
	}
	if creates < 2 {
		t.Errorf("CreateComputeEnvironment called %d times: the propagation delay was not met", creates)
	}
}

func TestUpWithThrottling(t *testing.T) {
	s := newStack(t, localaws.Options{ThrottleRate: 0.2})
	s.cfg.RetryMaxAttempts = 0
	s.cfg.Retryer = func() aws.Retryer {
		return retry.AddWithMaxBackoffDelay(retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10 }), 20*time.Millisecond)
	}
	if _, err := s.provisioner().Up(context.Background(), s.spec, false); err != nil {
		t.Fatalf("up with 20%% of calls throttled: %v", err)
	}
}

func TestPushedImageHoldsTheBinary(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	var ref string
	for _, r := range rs {
		if r.Kind == "job image" {
			ref = r.ID
		}
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatalf("image ref %q: %v", ref, err)
	}
	// The registry wants ECR's login, as ECR does.
	if _, err := remote.Image(tag, remote.WithAuth(authn.Anonymous)); err == nil {
		t.Error("the registry served the image without a login")
	}
	tok, err := ecr.NewFromConfig(s.cfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	login, err := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatal(err)
	}
	user, pass, _ := strings.Cut(string(login), ":")
	img, err := remote.Image(tag, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no %s in the image's layer: %v", image.BinaryPath, err)
		}
		if "/"+h.Name != image.BinaryPath {
			continue
		}
		got, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, fakeELF()) {
			t.Errorf("%s in the image is %d bytes, not the binary up was given", image.BinaryPath, len(got))
		}
		return
	}
}
