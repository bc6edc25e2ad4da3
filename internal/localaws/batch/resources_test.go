package batch_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbatch "github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
)

func TestComputeEnvironmentLifecycle(t *testing.T) {
	f := start(t, localaws.Options{})
	profile := f.profile("inst")
	in := ceInput("ce", "inst", 4)
	in.Tags = map[string]string{"batchxray:stack": "s"}
	out, err := f.batch.CreateComputeEnvironment(f.ctx, in)
	if err != nil {
		t.Fatalf("CreateComputeEnvironment: %v", err)
	}
	if want := "arn:aws:batch:us-east-1:000000000000:compute-environment/ce"; aws.ToString(out.ComputeEnvironmentArn) != want {
		t.Errorf("arn = %s, want %s", aws.ToString(out.ComputeEnvironmentArn), want)
	}
	ce := f.describeCE("ce")
	if ce.Status != types.CEStatusCreating || ce.State != types.CEStateEnabled {
		t.Errorf("new compute environment is %s/%s, want CREATING/ENABLED", ce.Status, ce.State)
	}
	f.clock.Advance(ceDelay - time.Millisecond)
	if ce := f.describeCE("ce"); ce.Status != types.CEStatusCreating {
		t.Errorf("before the delay: %s, want CREATING", ce.Status)
	}
	f.clock.Advance(time.Millisecond)
	ce = f.describeCE("ce")
	if ce.Status != types.CEStatusValid {
		t.Fatalf("after the delay: %s (%s), want VALID", ce.Status, aws.ToString(ce.StatusReason))
	}
	if want := "arn:aws:iam::000000000000:role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch"; aws.ToString(ce.ServiceRole) != want {
		t.Errorf("serviceRole = %s, want the service-linked role", aws.ToString(ce.ServiceRole))
	}
	if diff := cmp.Diff(map[string]string{"batchxray:stack": "s"}, ce.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if got := aws.ToString(ce.ComputeResources.Ec2Configuration[0].ImageType); got != "ECS_AL2023" {
		t.Errorf("imageType = %s", got)
	}
	_ = profile

	// Disable: UPDATING, then VALID; delete: DELETING, then gone.
	if _, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: out.ComputeEnvironmentArn, State: types.CEStateDisabled}); err != nil {
		t.Fatalf("UpdateComputeEnvironment: %v", err)
	}
	if ce := f.describeCE("ce"); ce.Status != types.CEStatusUpdating || ce.State != types.CEStateDisabled {
		t.Errorf("after disabling: %s/%s, want UPDATING/DISABLED", ce.Status, ce.State)
	}
	_, err = f.batch.DeleteComputeEnvironment(f.ctx, &awsbatch.DeleteComputeEnvironmentInput{ComputeEnvironment: aws.String("ce")})
	clientException(t, err) // still UPDATING
	f.clock.Advance(ceDelay)
	if _, err := f.batch.DeleteComputeEnvironment(f.ctx, &awsbatch.DeleteComputeEnvironmentInput{ComputeEnvironment: aws.String("ce")}); err != nil {
		t.Fatalf("DeleteComputeEnvironment: %v", err)
	}
	if ce := f.describeCE("ce"); ce == nil || ce.Status != types.CEStatusDeleting {
		t.Fatalf("after delete: %+v, want DELETING", ce)
	}
	f.clock.Advance(ceDelay)
	if ce := f.describeCE("ce"); ce != nil {
		t.Errorf("after the delay: %s, want gone", ce.Status)
	}
}

func TestComputeEnvironmentInvalidWhileProfileIsInvisible(t *testing.T) {
	f := start(t, localaws.Options{IAMPropagation: 10 * time.Second})
	f.profile("young")
	for name, profile := range map[string]string{"young": "young", "missing": "arn:aws:iam::000000000000:instance-profile/missing"} {
		if _, err := f.batch.CreateComputeEnvironment(f.ctx, ceInput(name, profile, 4)); err != nil {
			t.Fatalf("CreateComputeEnvironment %s: %v", name, err)
		}
	}
	f.clock.Advance(ceDelay)
	for name, profile := range map[string]string{"young": "young", "missing": "arn:aws:iam::000000000000:instance-profile/missing"} {
		ce := f.describeCE(name)
		if ce.Status != types.CEStatusInvalid || aws.ToString(ce.StatusReason) != "CLIENT_ERROR - Invalid IamInstanceProfile: "+profile {
			t.Errorf("%s: %s %q, want INVALID with the profile's CLIENT_ERROR", name, ce.Status, aws.ToString(ce.StatusReason))
		}
	}
	// An INVALID compute environment takes no queue.
	_, err := f.batch.CreateJobQueue(f.ctx, &awsbatch.CreateJobQueueInput{JobQueueName: aws.String("q"), Priority: aws.Int32(1),
		ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String("young")}}})
	clientException(t, err)
	// Once the profile has propagated, an update makes it VALID.
	f.clock.Advance(10 * time.Second)
	if _, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String("young"),
		ComputeResources: &types.ComputeResourceUpdate{MaxvCpus: aws.Int32(8)}}); err != nil {
		t.Fatalf("UpdateComputeEnvironment: %v", err)
	}
	f.clock.Advance(ceDelay)
	if ce := f.describeCE("young"); ce.Status != types.CEStatusValid || aws.ToInt32(ce.ComputeResources.MaxvCpus) != 8 || aws.ToString(ce.ComputeResources.InstanceRole) != "young" {
		t.Errorf("after the update: %s maxvCpus %d role %s, want VALID 8 young", ce.Status, aws.ToInt32(ce.ComputeResources.MaxvCpus), aws.ToString(ce.ComputeResources.InstanceRole))
	}
}

func TestJobQueueLifecycle(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("d", []string{"sleep", "600"}, nil)
	running := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	f.waitFor(running, types.JobStatusRunning)

	_, err := f.batch.DeleteJobQueue(f.ctx, &awsbatch.DeleteJobQueueInput{JobQueue: aws.String("q")})
	clientException(t, err) // ENABLED
	if !strings.Contains(err.Error(), "must be DISABLED") {
		t.Errorf("error %q does not say the queue must be DISABLED", err)
	}
	if _, err := f.batch.UpdateJobQueue(f.ctx, &awsbatch.UpdateJobQueueInput{JobQueue: aws.String("q"), State: types.JQStateDisabled}); err != nil {
		t.Fatalf("UpdateJobQueue: %v", err)
	}
	if q := f.describeQueue("q"); q.Status != types.JQStatusUpdating || q.State != types.JQStateDisabled {
		t.Errorf("after disabling: %s/%s, want UPDATING/DISABLED", q.Status, q.State)
	}
	f.clock.Advance(ceDelay)
	_, err = f.batch.SubmitJob(f.ctx, &awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	clientException(t, err) // DISABLED queue takes no jobs

	// The compute environment cannot go while the queue refers to it.
	if _, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String("q"), State: types.CEStateDisabled}); err != nil {
		t.Fatalf("UpdateComputeEnvironment: %v", err)
	}
	f.clock.Advance(ceDelay)
	_, err = f.batch.DeleteComputeEnvironment(f.ctx, &awsbatch.DeleteComputeEnvironmentInput{ComputeEnvironment: aws.String("q")})
	clientException(t, err)
	if !strings.Contains(err.Error(), "Cannot delete, found existing JobQueue relationship") {
		t.Errorf("error %q, want AWS's JobQueue relationship message", err)
	}

	if _, err := f.batch.DeleteJobQueue(f.ctx, &awsbatch.DeleteJobQueueInput{JobQueue: aws.String("q")}); err != nil {
		t.Fatalf("DeleteJobQueue: %v", err)
	}
	if q := f.describeQueue("q"); q == nil || q.Status != types.JQStatusDeleting {
		t.Fatalf("after delete: %+v, want DELETING", q)
	}
	f.clock.Advance(ceDelay)
	if q := f.describeQueue("q"); q != nil {
		t.Errorf("after the delay: %s, want gone", q.Status)
	}
	// Deleting the queue ended the job still in it.
	f.waitFor(running, types.JobStatusFailed)
	if _, err := f.batch.DeleteComputeEnvironment(f.ctx, &awsbatch.DeleteComputeEnvironmentInput{ComputeEnvironment: aws.String("q")}); err != nil {
		t.Fatalf("DeleteComputeEnvironment once the queue is gone: %v", err)
	}
}

// TestRules breaks each AWS rule the stand-in keeps and expects Batch's
// ClientException.
func TestRules(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	f.profile("p2")
	def := f.define("d", []string{"true"}, nil)
	old := f.define("old", []string{"true"}, nil)
	noResources := f.define("nores", []string{"true"}, func(in *awsbatch.RegisterJobDefinitionInput) {
		in.ContainerProperties.ResourceRequirements = nil
	})
	if _, err := f.batch.DeregisterJobDefinition(f.ctx, &awsbatch.DeregisterJobDefinitionInput{JobDefinition: aws.String(old)}); err != nil {
		t.Fatalf("DeregisterJobDefinition: %v", err)
	}
	// A CREATING compute environment and a DISABLED one.
	if _, err := f.batch.CreateComputeEnvironment(f.ctx, ceInput("creating", "p2", 4)); err != nil {
		t.Fatal(err)
	}
	disabled := ceInput("disabled", "p2", 4)
	disabled.State = types.CEStateDisabled
	if _, err := f.batch.CreateComputeEnvironment(f.ctx, disabled); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 101)
	for i := range ids {
		ids[i] = fmt.Sprintf("job-%d", i)
	}
	submit := func(mod func(*awsbatch.SubmitJobInput)) error {
		in := &awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}
		mod(in)
		_, err := f.batch.SubmitJob(f.ctx, in)
		return err
	}
	queue := func(name, ce string) error {
		_, err := f.batch.CreateJobQueue(f.ctx, &awsbatch.CreateJobQueueInput{JobQueueName: aws.String(name), Priority: aws.Int32(1),
			ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(ce)}}})
		return err
	}
	register := func(mod func(*awsbatch.RegisterJobDefinitionInput)) error {
		in := &awsbatch.RegisterJobDefinitionInput{JobDefinitionName: aws.String("r"), Type: types.JobDefinitionTypeContainer,
			ContainerProperties: &types.ContainerProperties{Image: aws.String("busybox"), Command: []string{"true"}}}
		mod(in)
		_, err := f.batch.RegisterJobDefinition(f.ctx, in)
		return err
	}
	rules := []struct {
		rule string
		call func() error
	}{
		{"compute environment names are letters, digits, - and _", func() error {
			_, err := f.batch.CreateComputeEnvironment(f.ctx, ceInput("bad name!", "p2", 4))
			return err
		}},
		{"compute environment names are at most 128 characters", func() error {
			_, err := f.batch.CreateComputeEnvironment(f.ctx, ceInput(strings.Repeat("a", 129), "p2", 4))
			return err
		}},
		{"a compute environment name is used once", func() error {
			_, err := f.batch.CreateComputeEnvironment(f.ctx, ceInput("q", "p2", 4))
			return err
		}},
		{"a managed compute environment needs computeResources", func() error {
			in := ceInput("nores", "p2", 4)
			in.ComputeResources = nil
			_, err := f.batch.CreateComputeEnvironment(f.ctx, in)
			return err
		}},
		{"minvCpus is at most maxvCpus", func() error {
			in := ceInput("minmax", "p2", 4)
			in.ComputeResources.MinvCpus = aws.Int32(8)
			_, err := f.batch.CreateComputeEnvironment(f.ctx, in)
			return err
		}},
		{"an ENABLED compute environment cannot be deleted", func() error {
			_, err := f.batch.DeleteComputeEnvironment(f.ctx, &awsbatch.DeleteComputeEnvironmentInput{ComputeEnvironment: aws.String("q")})
			return err
		}},
		{"a compute environment is updated only when VALID or INVALID", func() error {
			_, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String("creating"), State: types.CEStateDisabled})
			return err
		}},
		{"an unknown compute environment cannot be updated", func() error {
			_, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String("nosuch"), State: types.CEStateDisabled})
			return err
		}},
		{"a queue needs a VALID compute environment", func() error { return queue("q2", "creating") }},
		{"a queue needs an ENABLED compute environment", func() error { return queue("q3", "disabled") }},
		{"a queue needs an existing compute environment", func() error { return queue("q4", "nosuch") }},
		{"a queue name is used once", func() error { return queue("q", "q") }},
		{"an ENABLED queue cannot be deleted", func() error {
			_, err := f.batch.DeleteJobQueue(f.ctx, &awsbatch.DeleteJobQueueInput{JobQueue: aws.String("q")})
			return err
		}},
		{"a timeout is at least 60 seconds (job definition)", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) {
				in.Timeout = &types.JobTimeout{AttemptDurationSeconds: aws.Int32(59)}
			})
		}},
		{"a container job definition has an image", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) { in.ContainerProperties.Image = nil })
		}},
		{"retry attempts are 1 to 10", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) {
				in.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(11)}
			})
		}},
		{"AWS_BATCH variables are Batch's (job definition)", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.Environment = []types.KeyValuePair{{Name: aws.String("AWS_BATCH_JOB_ID"), Value: aws.String("x")}}
			})
		}},
		{"a job definition is deregistered by name:revision or ARN", func() error {
			_, err := f.batch.DeregisterJobDefinition(f.ctx, &awsbatch.DeregisterJobDefinitionInput{JobDefinition: aws.String("d")})
			return err
		}},
		{"an EC2 job definition has at least 1 vCPU", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.ResourceRequirements = []types.ResourceRequirement{{Type: types.ResourceTypeVcpu, Value: aws.String("0.5")}}
			})
		}},
		{"an EC2 job definition has at least 4 MiB of memory", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) {
				in.ContainerProperties.ResourceRequirements = []types.ResourceRequirement{{Type: types.ResourceTypeMemory, Value: aws.String("3")}}
			})
		}},
		{"an EC2 job definition has at least 4 MiB of memory (legacy field)", func() error {
			return register(func(in *awsbatch.RegisterJobDefinitionInput) { in.ContainerProperties.Memory = aws.Int32(2) }) //nolint:staticcheck // the legacy field AWS still accepts
		}},
		{"an EC2 job has at least 1 vCPU (overrides)", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) {
				in.ContainerOverrides = &types.ContainerOverrides{ResourceRequirements: []types.ResourceRequirement{{Type: types.ResourceTypeVcpu, Value: aws.String("0.25")}}}
			})
		}},
		{"an EC2 job has at least 4 MiB of memory (overrides)", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) {
				in.ContainerOverrides = &types.ContainerOverrides{ResourceRequirements: []types.ResourceRequirement{{Type: types.ResourceTypeMemory, Value: aws.String("2")}}}
			})
		}},
		{"an EC2 job has memory", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.JobDefinition = aws.String(noResources) })
		}},
		{"a timeout is at least 60 seconds (submit)", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) {
				in.Timeout = &types.JobTimeout{AttemptDurationSeconds: aws.Int32(30)}
			})
		}},
		{"an array has at least 2 children", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.ArrayProperties = &types.ArrayProperties{Size: aws.Int32(1)} })
		}},
		{"an array has at most 10,000 children", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.ArrayProperties = &types.ArrayProperties{Size: aws.Int32(10001)} })
		}},
		{"a dependency must exist", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) {
				in.DependsOn = []types.JobDependency{{JobId: aws.String("no-such-job")}}
			})
		}},
		{"a SEQUENTIAL dependency is for array jobs", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) {
				in.DependsOn = []types.JobDependency{{Type: types.ArrayJobDependencySequential}}
			})
		}},
		{"a job goes to an existing queue", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.JobQueue = aws.String("nosuch") })
		}},
		{"a job uses an existing job definition", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.JobDefinition = aws.String("nosuch") })
		}},
		{"a job cannot use an INACTIVE revision", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.JobDefinition = aws.String(old) })
		}},
		{"job names start with a letter or digit", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) { in.JobName = aws.String("-j") })
		}},
		{"AWS_BATCH variables are Batch's (overrides)", func() error {
			return submit(func(in *awsbatch.SubmitJobInput) {
				in.ContainerOverrides = &types.ContainerOverrides{Environment: []types.KeyValuePair{{Name: aws.String("AWS_BATCH_X"), Value: aws.String("x")}}}
			})
		}},
		{"DescribeJobs takes at least 1 job ID", func() error {
			_, err := f.batch.DescribeJobs(f.ctx, &awsbatch.DescribeJobsInput{Jobs: []string{}})
			return err
		}},
		{"DescribeJobs takes at most 100 job IDs", func() error {
			_, err := f.batch.DescribeJobs(f.ctx, &awsbatch.DescribeJobsInput{Jobs: ids})
			return err
		}},
		{"ListJobs needs a queue or an array job", func() error {
			_, err := f.batch.ListJobs(f.ctx, &awsbatch.ListJobsInput{})
			return err
		}},
		{"TerminateJob needs a known job", func() error {
			_, err := f.batch.TerminateJob(f.ctx, &awsbatch.TerminateJobInput{JobId: aws.String("nosuch"), Reason: aws.String("r")})
			return err
		}},
		{"tags go on existing resources", func() error {
			_, err := f.batch.TagResource(f.ctx, &awsbatch.TagResourceInput{ResourceArn: aws.String("arn:aws:batch:us-east-1:000000000000:job-queue/nosuch"), Tags: map[string]string{"a": "b"}})
			return err
		}},
	}
	for _, r := range rules {
		t.Run(r.rule, func(t *testing.T) {
			err := r.call()
			clientException(t, err)
			var re *smithyhttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("status: %v, want 400", err)
			}
		})
	}
}

func TestJobDefinitionRevisions(t *testing.T) {
	f := start(t, localaws.Options{})
	arn1 := f.define("d", []string{"echo", "1"}, nil)
	arn2 := f.define("d", []string{"echo", "2"}, nil)
	f.define("other", []string{"true"}, nil)
	if !strings.HasSuffix(arn1, ":job-definition/d:1") || !strings.HasSuffix(arn2, ":job-definition/d:2") {
		t.Fatalf("ARNs %s, %s", arn1, arn2)
	}
	if _, err := f.batch.DeregisterJobDefinition(f.ctx, &awsbatch.DeregisterJobDefinitionInput{JobDefinition: aws.String("d:2")}); err != nil {
		t.Fatalf("DeregisterJobDefinition: %v", err)
	}
	// A new revision never reuses a number.
	arn3 := f.define("d", []string{"echo", "3"}, nil)
	if !strings.HasSuffix(arn3, ":job-definition/d:3") {
		t.Fatalf("third ARN %s", arn3)
	}
	revs := func(in *awsbatch.DescribeJobDefinitionsInput) []string {
		t.Helper()
		var got []string
		p := awsbatch.NewDescribeJobDefinitionsPaginator(f.batch, in)
		for p.HasMorePages() {
			out, err := p.NextPage(f.ctx)
			if err != nil {
				t.Fatalf("DescribeJobDefinitions: %v", err)
			}
			for _, d := range out.JobDefinitions {
				got = append(got, fmt.Sprintf("%s:%d %s", aws.ToString(d.JobDefinitionName), aws.ToInt32(d.Revision), aws.ToString(d.Status)))
			}
		}
		return got
	}
	tests := []struct {
		name string
		in   *awsbatch.DescribeJobDefinitionsInput
		want []string
	}{
		{"everything, a page at a time", &awsbatch.DescribeJobDefinitionsInput{MaxResults: aws.Int32(1)}, []string{"d:1 ACTIVE", "d:2 INACTIVE", "d:3 ACTIVE", "other:1 ACTIVE"}},
		{"by name", &awsbatch.DescribeJobDefinitionsInput{JobDefinitionName: aws.String("d")}, []string{"d:1 ACTIVE", "d:2 INACTIVE", "d:3 ACTIVE"}},
		{"by name, ACTIVE", &awsbatch.DescribeJobDefinitionsInput{JobDefinitionName: aws.String("d"), Status: aws.String("ACTIVE")}, []string{"d:1 ACTIVE", "d:3 ACTIVE"}},
		{"by name:revision and ARN", &awsbatch.DescribeJobDefinitionsInput{JobDefinitions: []string{"d:2", arn1}}, []string{"d:2 INACTIVE", "d:1 ACTIVE"}},
		{"INACTIVE", &awsbatch.DescribeJobDefinitionsInput{Status: aws.String("INACTIVE")}, []string{"d:2 INACTIVE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, revs(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// Submitting by name takes the latest ACTIVE revision.
	f.stack("q", 4)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String("d")})
	if j := f.job(id); aws.ToString(j.JobDefinition) != arn3 {
		t.Errorf("job definition %s, want %s", aws.ToString(j.JobDefinition), arn3)
	}
}

func TestTags(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("d", []string{"true"}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def), Tags: map[string]string{"k": "v"}})
	for _, arn := range []string{
		aws.ToString(f.describeCE("q").ComputeEnvironmentArn),
		aws.ToString(f.describeQueue("q").JobQueueArn),
		def,
		aws.ToString(f.job(id).JobArn),
	} {
		t.Run(arn, func(t *testing.T) {
			if _, err := f.batch.TagResource(f.ctx, &awsbatch.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"batchxray:stack": "s", "drop": "me"}}); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
			if _, err := f.batch.UntagResource(f.ctx, &awsbatch.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"drop"}}); err != nil {
				t.Fatalf("UntagResource: %v", err)
			}
			out, err := f.batch.ListTagsForResource(f.ctx, &awsbatch.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil {
				t.Fatalf("ListTagsForResource: %v", err)
			}
			want := map[string]string{"batchxray:stack": "s"}
			if strings.Contains(arn, ":job/") {
				want["k"] = "v"
			}
			if diff := cmp.Diff(want, out.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListJobs(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 1)
	def := f.define("d", []string{"sleep", "600"}, nil)
	var ids []string
	for _, name := range []string{"alpha-1", "alpha-2", "beta"} {
		ids = append(ids, f.submit(&awsbatch.SubmitJobInput{JobName: aws.String(name), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}))
	}
	f.waitFor(ids[0], types.JobStatusRunning)
	list := func(in *awsbatch.ListJobsInput) []string {
		t.Helper()
		var got []string
		p := awsbatch.NewListJobsPaginator(f.batch, in)
		for p.HasMorePages() {
			out, err := p.NextPage(f.ctx)
			if err != nil {
				t.Fatalf("ListJobs: %v", err)
			}
			for _, s := range out.JobSummaryList {
				got = append(got, aws.ToString(s.JobName)+" "+string(s.Status))
			}
		}
		return got
	}
	tests := []struct {
		name string
		in   *awsbatch.ListJobsInput
		want []string
	}{
		{"RUNNING by default", &awsbatch.ListJobsInput{JobQueue: aws.String("q")}, []string{"alpha-1 RUNNING"}},
		{"by status", &awsbatch.ListJobsInput{JobQueue: aws.String("q"), JobStatus: types.JobStatusRunnable, MaxResults: aws.Int32(1)}, []string{"alpha-2 RUNNABLE", "beta RUNNABLE"}},
		{"JOB_NAME with a wildcard, any status", &awsbatch.ListJobsInput{JobQueue: aws.String("q"), JobStatus: types.JobStatusSucceeded,
			Filters: []types.KeyValuesPair{{Name: aws.String("JOB_NAME"), Values: []string{"alpha*"}}}}, []string{"alpha-1 RUNNING", "alpha-2 RUNNABLE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, list(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestThrottlingIsTooManyRequests(t *testing.T) {
	f := start(t, localaws.Options{ThrottleRate: 1})
	_, err := f.batch.DescribeJobQueues(f.ctx, &awsbatch.DescribeJobQueuesInput{})
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "TooManyRequestsException" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusTooManyRequests {
		t.Fatalf("got %v, want TooManyRequestsException 429", err)
	}
}

func TestUnimplementedOperation(t *testing.T) {
	f := start(t, localaws.Options{})
	_, err := f.batch.CreateSchedulingPolicy(f.ctx, &awsbatch.CreateSchedulingPolicyInput{Name: aws.String("p")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotImplemented" {
		t.Fatalf("got %v, want NotImplemented", err)
	}
	if got := f.srv.Calls(); len(got) != 1 || got[0].Operation != "CreateSchedulingPolicy" {
		t.Errorf("calls = %v, want CreateSchedulingPolicy named", got)
	}
}
