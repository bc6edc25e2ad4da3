package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/waiter"
)

// makeStack creates the Batch part of a stack on the stand-in with the SDK,
// as `up` would but without the network and bucket that `up` needs: the
// job image (stackJobImage, pushed to the stack's ECR repository, so that
// the stand-in checks every job's command against it as ECS would), an
// instance profile, a VALID compute environment, a VALID queue, and a job
// definition running `batchxray job` in that image that carries the
// stack's tag.
func makeStack(ctx context.Context, cfg aws.Config, stack string, maxv int32) error {
	names, err := provision.NamesFor(stack, "000000000000", cfg.Region)
	if err != nil {
		return err
	}
	ic, c := iam.NewFromConfig(cfg), batch.NewFromConfig(cfg)
	var imageRef string
	steps := []struct {
		what string
		do   func() error
	}{
		{"push the job image", func() (err error) {
			imageRef, err = pushStackJobImage(ctx, cfg, names.Repository)
			return err
		}},
		{"create role", func() error {
			_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(names.InstanceRole), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
			return err
		}},
		{"create instance profile", func() error {
			_, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(names.InstanceProfile)})
			return err
		}},
		{"add role to profile", func() error {
			_, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(names.InstanceProfile), RoleName: aws.String(names.InstanceRole)})
			return err
		}},
		{"create compute environment", func() error {
			_, err := c.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{
				ComputeEnvironmentName: aws.String(names.ComputeEnvironment),
				Type:                   types.CETypeManaged,
				ComputeResources: &types.ComputeResource{
					Type: types.CRTypeEc2, MinvCpus: aws.Int32(0), MaxvCpus: aws.Int32(maxv),
					InstanceTypes: []string{"optimal"}, Subnets: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"},
					InstanceRole:     aws.String(names.InstanceProfile),
					Ec2Configuration: []types.Ec2Configuration{{ImageType: aws.String("ECS_AL2023")}},
				},
			})
			return err
		}},
		{"wait for the compute environment", func() error {
			return waitVALID(ctx, func() (string, error) {
				out, err := c.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{names.ComputeEnvironment}})
				if err != nil || len(out.ComputeEnvironments) == 0 {
					return "", err
				}
				return string(out.ComputeEnvironments[0].Status), nil
			})
		}},
		{"create job queue", func() error {
			_, err := c.CreateJobQueue(ctx, &batch.CreateJobQueueInput{
				JobQueueName: aws.String(names.JobQueue), Priority: aws.Int32(1),
				ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(names.ComputeEnvironment)}},
			})
			return err
		}},
		{"wait for the job queue", func() error {
			return waitVALID(ctx, func() (string, error) {
				out, err := c.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{names.JobQueue}})
				if err != nil || len(out.JobQueues) == 0 {
					return "", err
				}
				return string(out.JobQueues[0].Status), nil
			})
		}},
		{"register job definition", func() error {
			_, err := c.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{
				JobDefinitionName: aws.String(names.JobDefinition),
				Type:              types.JobDefinitionTypeContainer,
				ContainerProperties: &types.ContainerProperties{
					Image:   aws.String(imageRef),
					Command: []string{"batchxray", "job"},
					ResourceRequirements: []types.ResourceRequirement{
						{Type: types.ResourceTypeVcpu, Value: aws.String("1")},
						{Type: types.ResourceTypeMemory, Value: aws.String("512")},
					},
					LogConfiguration: &types.LogConfiguration{LogDriver: types.LogDriverAwslogs, Options: map[string]string{"awslogs-group": names.LogGroup}},
				},
				Tags: map[string]string{provision.TagKey: stack},
			})
			return err
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// pushStackJobImage pushes stackJobImage to the stand-in's repository repo
// (made unless it exists) and returns its reference.
func pushStackJobImage(ctx context.Context, cfg aws.Config, repo string) (string, error) {
	img, err := stackJobImage()
	if err != nil {
		return "", err
	}
	ref, opts, err := standInRepository(ctx, cfg, repo+":mkstack")
	if err != nil {
		return "", err
	}
	return ref.String(), remote.Write(ref, img, opts...)
}

func waitVALID(ctx context.Context, status func() (string, error)) error {
	return waiter.Wait(ctx, "wait for VALID", waiter.Options{MinDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond, MaxWait: 30 * time.Second}, func(context.Context) (bool, error) {
		s, err := status()
		return s == "VALID", err
	})
}

// cmdMakeStack is the script command `mkstack STACK [MAXVCPUS]`: it makes
// the stack's job image and Batch resources on the stand-in at
// $AWS_ENDPOINT_URL (makeStack). Its jobs run only what the image holds
// (userJobImage).
func cmdMakeStack(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: mkstack STACK [MAXVCPUS]")
	}
	maxv := 16
	if len(args) == 2 {
		if _, err := fmt.Sscan(args[1], &maxv); err != nil {
			ts.Fatalf("mkstack: bad MAXVCPUS %q", args[1])
		}
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(ts.Getenv("AWS_REGION")),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		config.WithBaseEndpoint(ts.Getenv("AWS_ENDPOINT_URL")),
	)
	if err != nil {
		ts.Fatalf("mkstack: %v", err)
	}
	ts.Check(makeStack(context.Background(), cfg, args[0], int32(maxv)))
}

func TestStatusFlags(t *testing.T) {
	tests := []flagCase[statusOptions]{
		{name: "ids", args: []string{"a", "b"}, want: statusOptions{ids: []string{"a", "b"}, maxWait: 24 * time.Hour, explainAfter: 90 * time.Second}},
		{name: "once", args: []string{"--once", "a"}, want: statusOptions{ids: []string{"a"}, once: true, maxWait: 24 * time.Hour, explainAfter: 90 * time.Second}},
		{name: "max wait", args: []string{"--max-wait", "10m", "--explain-after", "5s", "a"}, want: statusOptions{ids: []string{"a"}, maxWait: 10 * time.Minute, explainAfter: 5 * time.Second}},
		{name: "no id", args: nil, wantErr: "requires at least 1 arg"},
		{name: "bad max wait", args: []string{"--max-wait", "0s", "a"}, wantErr: "invalid --max-wait 0s"},
	}
	testFlags(t, newStatusCmd, tests, false)
}

// errorsAsUsage reports whether err is a usage error (exit 2).
func errorsAsUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

func TestRunStatus(t *testing.T) {
	for _, tt := range []struct {
		name      string
		tty, json bool
	}{
		{"plain", false, false},
		{"tty", true, false},
		{"json", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fx := newSubmitFixture(t, tt.tty)
			var ids []string
			for _, cmd := range []string{"sleep 1", "sleep 1; exit 4"} {
				sub, err := runSubmitQuiet(fx, cmd)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, sub)
			}
			if tt.json {
				fx.f.Globals.Output = outputJSON
			}
			err := runStatus(context.Background(), &statusOptions{f: fx.f, ids: append(ids, "nope"), maxWait: time.Minute, explainAfter: time.Minute})
			// A failed job and an unknown one: both reported; the failure
			// decides the exit code.
			if got := exitCode(err); got != exitJobFailed {
				t.Fatalf("exit code %d (%v), want 3", got, err)
			}
			if !strings.Contains(err.Error(), "job not found: nope") {
				t.Errorf("error %q does not name the unknown job", err)
			}
			stdout, stderr := fx.out.String(), fx.err.String()
			switch {
			case tt.json:
				var reports []map[string]any
				if err := json.Unmarshal([]byte(stdout), &reports); err != nil {
					t.Fatalf("stdout is not a JSON array: %v\n%s", err, stdout)
				}
				if len(reports) != 2 || reports[0]["status"] != "SUCCEEDED" || reports[1]["status"] != "FAILED" || reports[1]["exitCode"] != 4.0 {
					t.Errorf("reports = %v", reports)
				}
			case tt.tty:
				if !strings.Contains(stderr, "\r\x1b[K") || !strings.Contains(ansi.Strip(stderr), "2 jobs: ") {
					t.Errorf("stderr has no live line for both jobs:\n%q", stderr)
				}
			default:
				if strings.Count(stderr, " → ") < 2 {
					t.Errorf("stderr has no transition lines:\n%s", stderr)
				}
			}
			if !tt.json && (!strings.Contains(stdout, "✓ SUCCEEDED job (") || !strings.Contains(stdout, "✗ FAILED job (") || strings.Contains(stdout, "\x1b[")) {
				t.Errorf("stdout lacks the plain reports:\n%s", stdout)
			}
		})
	}
}

// runSubmitQuiet submits a job running cmd without waiting and returns its
// ID, leaving the fixture's streams empty.
func runSubmitQuiet(fx *submitFixture, cmd string) (string, error) {
	if err := runSubmit(context.Background(), &submitOptions{f: fx.f, spec: jobs.Spec{Name: "job", Command: []string{"sh", "-c", cmd}}, maxWait: time.Minute}); err != nil {
		return "", err
	}
	id := strings.TrimSpace(fx.out.String())
	fx.out.mu.Lock()
	fx.out.b.Reset()
	fx.out.mu.Unlock()
	return id, nil
}
