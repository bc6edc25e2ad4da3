package jobs

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

func TestSpecValidate(t *testing.T) {
	ok := Spec{Name: "job_1-a"}
	tests := []struct {
		name    string
		mod     func(*Spec)
		wantErr string
	}{
		{"fine", func(*Spec) {}, ""},
		{"128 characters", func(s *Spec) { s.Name = strings.Repeat("a", 128) }, ""},
		{"129 characters", func(s *Spec) { s.Name = strings.Repeat("a", 129) }, "invalid job name"},
		{"empty name", func(s *Spec) { s.Name = "" }, "invalid job name"},
		{"dot in name", func(s *Spec) { s.Name = "a.b" }, "invalid job name"},
		{"array of 2", func(s *Spec) { s.ArraySize = 2 }, ""},
		{"array of 10000", func(s *Spec) { s.ArraySize = 10000 }, ""},
		{"array of 1", func(s *Spec) { s.ArraySize = 1 }, "invalid array size 1"},
		{"attempts 10", func(s *Spec) { s.Attempts = 10 }, ""},
		{"attempts 11", func(s *Spec) { s.Attempts = 11 }, "invalid retries 11"},
		{"timeout 60s", func(s *Spec) { s.Timeout = time.Minute }, ""},
		{"timeout 59s", func(s *Spec) { s.Timeout = 59 * time.Second }, "invalid timeout 59s"},
		{"negative vcpus", func(s *Spec) { s.VCPUs = -1 }, "invalid vCPUs"},
		{"half a vCPU", func(s *Spec) { s.VCPUs = 0.5 }, "invalid vCPUs 0.5: a job on EC2 asks for at least 1"},
		{"1 vCPU", func(s *Spec) { s.VCPUs = 1 }, ""},
		{"negative memory", func(s *Spec) { s.MemoryMiB = -1 }, "invalid memory -1 MiB"},
		{"3 MiB", func(s *Spec) { s.MemoryMiB = 3 }, "invalid memory 3 MiB: a job on EC2 asks for at least 4 MiB"},
		{"4 MiB", func(s *Spec) { s.MemoryMiB = 4 }, ""},
		{"reserved env", func(s *Spec) { s.Env = []string{"AWS_BATCHY=1"} }, "reserved for Batch"},
		{"trace header env", func(s *Spec) { s.Env = []string{"_X_AMZN_TRACE_ID=Root=1"} }, "sets the job's trace header itself"},
		{"env without =", func(s *Spec) { s.Env = []string{"K"} }, "want KEY=VALUE"},
		{"env with empty key", func(s *Spec) { s.Env = []string{"=v"} }, "want KEY=VALUE"},
		{"empty dependency", func(s *Spec) { s.DependsOn = []string{""} }, "empty job ID"},
		{"url with command", func(s *Spec) { s.URL, s.Command = "http://x", []string{"true"} }, "cannot go with a command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.mod(&s)
			err := s.Validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// fakeSubmit has the stack's job definition revisions and records the
// SubmitJob input.
type fakeSubmit struct {
	defs []types.JobDefinition
	in   *batch.SubmitJobInput
}

func (f *fakeSubmit) DescribeJobDefinitions(_ context.Context, in *batch.DescribeJobDefinitionsInput, _ ...func(*batch.Options)) (*batch.DescribeJobDefinitionsOutput, error) {
	return &batch.DescribeJobDefinitionsOutput{JobDefinitions: f.defs}, nil
}

func (f *fakeSubmit) SubmitJob(_ context.Context, in *batch.SubmitJobInput, _ ...func(*batch.Options)) (*batch.SubmitJobOutput, error) {
	f.in = in
	return &batch.SubmitJobOutput{JobId: aws.String("id-1"), JobName: in.JobName, JobArn: aws.String("arn:job/id-1")}, nil
}

func def(rev int32, stack string) types.JobDefinition {
	return types.JobDefinition{
		JobDefinitionName: aws.String("demo-job"),
		JobDefinitionArn:  aws.String("arn:aws:batch:us-east-1:000000000000:job-definition/demo-job:" + string(rune('0'+rev))),
		Revision:          aws.Int32(rev),
		Tags:              map[string]string{"batchxray:stack": stack},
	}
}

func TestSubmitInput(t *testing.T) {
	f := &fakeSubmit{defs: []types.JobDefinition{def(1, "demo"), def(3, "demo"), def(2, "demo")}}
	spec := Spec{
		Stack: "demo", Region: "us-east-1", TagKey: "batchxray:stack", Queue: "demo-queue", Definition: "demo-job",
		Name: "etl", ArraySize: 4, DependsOn: []string{"a", "b"}, Env: []string{"K=1", "K=2", "X=a=b"},
		Timeout: 90 * time.Second, Attempts: 3, VCPUs: 2, MemoryMiB: 1024, Command: []string{"python3", "etl.py"},
	}
	now := time.Unix(0x5d82881a, 0)
	random := bytes.NewReader(bytes.Repeat([]byte{0xab, 0x01}, 16))
	sub, err := Submit(context.Background(), f, spec, SubmitOptions{Now: func() time.Time { return now }, Rand: random})
	if err != nil {
		t.Fatal(err)
	}
	const trace = "1-5d82881a-ab01ab01ab01ab01ab01ab01"
	diff(t, "submission", Submission{ID: "id-1", Name: "etl", ARN: "arn:job/id-1", TraceID: trace}, sub)
	diff(t, "tags", map[string]string{"batchxray:trace-id": trace}, f.in.Tags)
	in := f.in
	diff(t, "definition (the newest revision)", "arn:aws:batch:us-east-1:000000000000:job-definition/demo-job:3", aws.ToString(in.JobDefinition))
	diff(t, "queue", "demo-queue", aws.ToString(in.JobQueue))
	diff(t, "command", []string{"batchxray", "job", "--", "python3", "etl.py"}, in.ContainerOverrides.Command)
	env := map[string]string{}
	for _, kv := range in.ContainerOverrides.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	diff(t, "environment", map[string]string{"BATCHXRAY_JOB_NAME": "etl", "K": "2", "X": "a=b",
		"_X_AMZN_TRACE_ID": "Root=" + trace + ";Parent=ab01ab01ab01ab01;Sampled=1"}, env)
	res := map[types.ResourceType]string{}
	for _, r := range in.ContainerOverrides.ResourceRequirements {
		res[r.Type] = aws.ToString(r.Value)
	}
	diff(t, "resources", map[types.ResourceType]string{types.ResourceTypeVcpu: "2", types.ResourceTypeMemory: "1024"}, res)
	diff(t, "array size", int32(4), aws.ToInt32(in.ArrayProperties.Size))
	diff(t, "timeout", int32(90), aws.ToInt32(in.Timeout.AttemptDurationSeconds))
	diff(t, "attempts", int32(3), aws.ToInt32(in.RetryStrategy.Attempts))
	diff(t, "depends on", []string{"a", "b"}, []string{aws.ToString(in.DependsOn[0].JobId), aws.ToString(in.DependsOn[1].JobId)})
}

func TestSubmitSampleWork(t *testing.T) {
	f := &fakeSubmit{defs: []types.JobDefinition{def(1, "demo")}}
	if _, err := Submit(context.Background(), f, Spec{Stack: "demo", TagKey: "batchxray:stack", Queue: "q", Definition: "demo-job", Name: "s", URL: "https://example.com/"}, SubmitOptions{}); err != nil {
		t.Fatal(err)
	}
	in := f.in
	if in.ContainerOverrides.Command != nil || in.ArrayProperties != nil || in.Timeout != nil || in.RetryStrategy != nil || in.ContainerOverrides.ResourceRequirements != nil {
		t.Errorf("overrides set that were not asked for: %+v", in)
	}
	diff(t, "URL", "https://example.com/", aws.ToString(in.ContainerOverrides.Environment[1].Value))
}

func TestSubmitStackMissingOrNotOurs(t *testing.T) {
	spec := Spec{Stack: "demo", Region: "eu-west-1", TagKey: "batchxray:stack", Queue: "q", Definition: "demo-job", Name: "s"}
	var nf *StackNotFoundError
	if _, err := Submit(context.Background(), &fakeSubmit{}, spec, SubmitOptions{}); !errors.As(err, &nf) || err.Error() != `stack "demo" not found in eu-west-1: run batchxray up` {
		t.Errorf("no definition: %v", err)
	}
	f := &fakeSubmit{defs: []types.JobDefinition{def(1, "other")}}
	if _, err := Submit(context.Background(), f, spec, SubmitOptions{}); err == nil || !strings.Contains(err.Error(), "lacks the tag batchxray:stack=demo") || f.in != nil {
		t.Errorf("someone else's definition: %v (submitted: %v)", err, f.in != nil)
	}
}
