package provision_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/userdata"
)

// jobDefinition is the stack's newest ACTIVE job definition's command and
// environment, as Batch describes it.
func (s *stack) jobDefinition(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	out, err := batch.NewFromConfig(s.cfg).DescribeJobDefinitions(context.Background(), &batch.DescribeJobDefinitionsInput{
		JobDefinitionName: aws.String(s.names.JobDefinition), Status: aws.String("ACTIVE"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.JobDefinitions) != 1 {
		t.Fatalf("%d ACTIVE job definitions, want 1", len(out.JobDefinitions))
	}
	cp := out.JobDefinitions[0].ContainerProperties
	env := map[string]string{}
	for _, kv := range cp.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	return cp.Command, env
}

func TestJobDefinitionSetsTheRegionAndTheTracer(t *testing.T) {
	for _, tc := range []struct {
		tracer     string
		wantTracer string // "" is no BATCHXRAY_TRACER: the X-Ray SDK's
	}{{"", ""}, {provision.TracerXRay, ""}, {provision.TracerOTel, "otel"}} {
		t.Run("tracer="+tc.tracer, func(t *testing.T) {
			s := newStack(t, localaws.Options{})
			s.spec.Tracer = tc.tracer
			if _, err := s.provisioner().Up(context.Background(), s.spec, false); err != nil {
				t.Fatal(err)
			}
			cmd, env := s.jobDefinition(t)
			if diff := cmp.Diff([]string{"batchxray", "job"}, cmd); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if env["AWS_REGION"] != s.cfg.Region || s.cfg.Region == "" {
				t.Errorf("AWS_REGION = %q, want the stack's region %q", env["AWS_REGION"], s.cfg.Region)
			}
			if env["BATCHXRAY_TRACER"] != tc.wantTracer {
				t.Errorf("BATCHXRAY_TRACER = %q, want %q", env["BATCHXRAY_TRACER"], tc.wantTracer)
			}
		})
	}
}

func TestImageCommandLeavesTheCommandToTheImage(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	s.spec.ImageCommand = true
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rs)["job definition "+s.names.JobDefinition]; got != provision.Update {
		t.Errorf("job definition: %s, want update", got)
	}
	if cmd, _ := s.jobDefinition(t); len(cmd) != 0 {
		t.Errorf("command %q, want none: the image's entrypoint runs its own", cmd)
	}
}

func TestSwitchingAgentsUpdatesTheLaunchTemplateAndComputeEnvironment(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	s.spec.Agent = userdata.AgentCloudWatch
	plan, err := s.provisioner().Up(ctx, s.spec, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range plan {
		if r.Kind == "launch template" && r.Detail != "new version, agent cloudwatch" {
			t.Errorf("plan: launch template %s (%s), want the new agent named", r.Action, r.Detail)
		}
	}
	s.srv.ResetCalls()
	rs, err := s.provisioner().Up(ctx, s.spec, false)
	if err != nil {
		t.Fatal(err)
	}
	w := want(allResources(s.names), provision.Unchanged)
	w["launch template "+s.names.LaunchTemplate] = provision.Update
	w["compute environment "+s.names.ComputeEnvironment] = provision.Update
	if diff := cmp.Diff(w, actions(rs)); diff != "" {
		t.Errorf("up with another agent (-want +got):\n%s", diff)
	}
	var ops []string
	for _, c := range mutating(s.srv.Calls()) {
		ops = append(ops, c.Operation)
	}
	slices.Sort(ops)
	if diff := cmp.Diff([]string{"CreateLaunchTemplateVersion", "ModifyLaunchTemplate", "UpdateComputeEnvironment"}, ops); diff != "" {
		t.Errorf("mutating calls (-want +got):\n%s", diff)
	}

	// The hosts' user data installs the CloudWatch agent now, and the
	// instance role has the same policies: the agent needs no more.
	v, err := ec2.NewFromConfig(s.cfg).DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(s.names.LaunchTemplate), Versions: []string{"$Default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := userdata.Decode(aws.ToString(v.LaunchTemplateVersions[0].LaunchTemplateData.UserData))
	if err != nil {
		t.Fatal(err)
	}
	params, _, err := userdata.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if params.Agent != userdata.AgentCloudWatch {
		t.Errorf("user data's agent %q, want %q", params.Agent, userdata.AgentCloudWatch)
	}
	pol, err := iam.NewFromConfig(s.cfg).ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(s.names.InstanceRole)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range pol.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	slices.Sort(arns)
	if diff := cmp.Diff([]string{
		"arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
		"arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
	}, arns); diff != "" {
		t.Errorf("instance role's policies (-want +got):\n%s", diff)
	}
}

func TestSpecRefusesBadAgentAndTracer(t *testing.T) {
	s := newStack(t, localaws.Options{})
	for _, tc := range []struct {
		name string
		edit func(*provision.Spec)
	}{
		{"agent", func(sp *provision.Spec) { sp.Agent = "fluentd" }},
		{"tracer", func(sp *provision.Spec) { sp.Tracer = "jaeger" }},
		{"daemon version with the cloudwatch agent", func(sp *provision.Spec) {
			sp.Agent, sp.DaemonVersion = userdata.AgentCloudWatch, "3.3.13"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := s.spec
			tc.edit(&sp)
			if err := sp.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
		})
	}
	if err := s.spec.Validate(); err != nil {
		t.Errorf("the default spec: %v", err)
	}
}
