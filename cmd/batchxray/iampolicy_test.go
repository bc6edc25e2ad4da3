package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	xraytypes "github.com/aws/aws-sdk-go-v2/service/xray/types"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/provision"
)

// s3Actions are the IAM actions of S3 operations not named alike.
var s3Actions = map[string][]string{
	"HeadBucket": {"ListBucket"}, "ListObjectsV2": {"ListBucket"}, "ListObjectVersions": {"ListBucketVersions"},
	"DeleteObjects":        {"DeleteObject", "DeleteObjectVersion"},
	"GetPublicAccessBlock": {"GetBucketPublicAccessBlock"}, "PutPublicAccessBlock": {"PutBucketPublicAccessBlock"},
	"GetBucketEncryption": {"GetEncryptionConfiguration"}, "PutBucketEncryption": {"PutEncryptionConfiguration"},
}

// implied are the actions a call needs besides its own: tags given at
// creation, roles passed, the role Batch creates for the caller.
var implied = map[string][]string{
	"iam:CreateRole":                 {"iam:TagRole"},
	"iam:CreateInstanceProfile":      {"iam:TagInstanceProfile"},
	"ecr:CreateRepository":           {"ecr:TagResource"},
	"ec2:CreateSecurityGroup":        {"ec2:CreateTags"},
	"ec2:CreateLaunchTemplate":       {"ec2:CreateTags"},
	"batch:CreateComputeEnvironment": {"batch:TagResource", "iam:PassRole", "iam:CreateServiceLinkedRole"},
	"batch:CreateJobQueue":           {"batch:TagResource"},
	"events:PutRule":                 {"events:TagResource"},
	"batch:RegisterJobDefinition":    {"batch:TagResource", "iam:PassRole"},
	"batch:SubmitJob":                {"batch:TagResource"},
	"xray:CreateSamplingRule":        {"xray:TagResource"},
	"logs:CreateLogGroup":            {"logs:TagResource"},
	// The job image's push and check go through ECR's registry API (not
	// SigV4 calls the stand-in logs): these are its actions.
	"ecr:GetAuthorizationToken": {"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
		"ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"},
}

// iamPrefix is the IAM service prefix of each SigV4 signing name.
var iamPrefix = map[string]string{"iam": "iam", "s3": "s3", "ecr": "ecr", "ec2": "ec2", "batch": "batch",
	"xray": "xray", "logs": "logs", "sts": "sts", "events": "events"}

// notReachedHere are actions of calls the commands make on paths this test
// cannot reach on the stand-in, and why. The jobs here run (as processes of
// the stand-in), so trace by ID and by search, Transaction Search's
// retrieval, logs and down's terminate are all reached.
var notReachedHere = map[string]string{}

// drift changes the stack as a user could, and fills its bucket, so that
// up's repairs and down's emptying make their calls; and it turns
// Transaction Search on, so that doctor reads the indexing rules.
func drift(ctx context.Context, cfg aws.Config, n provision.Names) error {
	if _, err := iam.NewFromConfig(cfg).UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(n.JobRole),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		return err
	}
	e := ec2.NewFromConfig(cfg)
	sg, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-name"), Values: []string{n.SecurityGroup}}}})
	if err != nil || len(sg.SecurityGroups) != 1 {
		return fmt.Errorf("find the stack's security group: %v", err)
	}
	if _, err := e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.SecurityGroups[0].GroupId,
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		return err
	}
	if _, err := xray.NewFromConfig(cfg).UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &xraytypes.SamplingRuleUpdate{
		RuleName: aws.String(n.SamplingRule), FixedRate: aws.Float64(0.5)}}); err != nil {
		return err
	}
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(n.Bucket),
		Key: aws.String("out/1"), Body: bytes.NewReader([]byte("x"))}); err != nil {
		return err
	}
	_, err = xray.NewFromConfig(cfg).UpdateTraceSegmentDestination(ctx, &xray.UpdateTraceSegmentDestinationInput{Destination: xraytypes.TraceSegmentDestinationCloudWatchLogs})
	return err
}

// docs/iam-policy.json allows exactly what the commands call: every
// command runs against the stand-in, its call log becomes IAM actions,
// and the policy must list each of them and nothing more.
func TestIAMPolicyCoversTheCalls(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skip("up pushes the job image built from this binary only on linux")
	}
	// The jobs run as this binary, which testscript.Main puts on PATH as
	// batchxray.
	bin, err := exec.LookPath("batchxray")
	if err != nil {
		t.Fatalf("the test binary as batchxray: %v", err)
	}
	srv, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond, Executable: bin})
	ctx := context.Background()
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	// mine are the indexes in the call log of the calls the test makes
	// itself, to drift the stack or fill it; they are not the commands'.
	mine := map[int]bool{}
	own := func(do func() error) {
		t.Helper()
		from := len(srv.Calls())
		if err := do(); err != nil {
			t.Fatal(err)
		}
		for i := from; i < len(srv.Calls()); i++ {
			mine[i] = true
		}
	}
	// execute parses the flags: the stack is the default one.
	names, _ := provision.NamesFor(defaultStack, "000000000000", cfg.Region)
	// The default job image holds batchxray alone (no shell, no sleep, as
	// on AWS): the jobs run batchxray, and the one still running at down is
	// the sample job fetching from a server that never answers.
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hang.Close)
	var jobID, rawID string
	for _, args := range [][]string{
		{"doctor"},
		{"up", "--arch", arch},
		{"up", "--arch", arch, "--dry-run", "--max-vcpus", "8"},
		{"submit", "--wait", "--", "batchxray", "version"},
		{"status", "--once", "JOB"},
		// --wait only bounds the wait: a trace a slow machine cut short
		// would make fewer calls than the policy lists.
		{"trace", "--wait", "2m", "JOB"},
		{"logs", "JOB"},
		{"RAW"},
		{"trace", "--wait", "2m", "RAWJOB"},
		{"DRIFT"},
		{"up", "--arch", arch, "--daemon-version", "3.3.13", "--sample-url", hang.URL},
		{"trace", "--wait", "10s", "JOB"},
		{"submit"},
		{"doctor"},
		{"down", "--yes"},
	} {
		switch args[0] {
		case "DRIFT":
			own(func() error { return drift(ctx, cfg, names) })
			continue
		case "RAW":
			// A job submitted without batchxray carries no trace ID: trace
			// searches for it.
			own(func() error {
				out, err := batch.NewFromConfig(cfg).SubmitJob(ctx, &batch.SubmitJobInput{JobName: aws.String("raw"),
					JobQueue: aws.String(names.JobQueue), JobDefinition: aws.String(names.JobDefinition),
					ContainerOverrides: &batchtypes.ContainerOverrides{Command: []string{"batchxray", "job", "--", "batchxray", "version"}}})
				rawID = aws.ToString(out.JobId)
				return err
			})
			continue
		}
		f, out, errOut := stackFactory(cfg, false, "")
		for i, a := range args {
			switch a {
			case "JOB":
				args[i] = jobID
			case "RAWJOB":
				args[i] = rawID
			}
		}
		began := time.Now()
		code := execute(ctx, f, args)
		if args[0] == "submit" && jobID == "" {
			jobID = strings.TrimSpace(out.String())
		}
		t.Logf("batchxray %s: exit %d (%s)", strings.Join(args, " "), code, time.Since(began).Round(time.Millisecond))
		if code != 0 && args[0] != "doctor" && args[0] != "trace" && args[0] != "status" {
			t.Fatalf("batchxray %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
		}
	}

	calledBy := map[string]string{}
	for i, c := range srv.Calls() {
		if mine[i] {
			continue
		}
		prefix, ok := iamPrefix[c.Service]
		if !ok || c.Operation == "" {
			t.Fatalf("call %+v: no IAM service prefix known for %q: add it to iamPrefix", c, c.Service)
		}
		call := prefix + ":" + c.Operation
		actions := []string{call}
		if a, ok := s3Actions[c.Operation]; ok && prefix == "s3" {
			actions = nil
			for _, x := range a {
				actions = append(actions, "s3:"+x)
			}
		}
		actions = append(actions, implied[call]...)
		for _, a := range actions {
			if _, ok := calledBy[a]; !ok {
				calledBy[a] = call
			}
		}
	}

	listed := policyActions(t, "../../docs/iam-policy.json")
	for a, call := range calledBy {
		if !slices.Contains(listed, a) {
			t.Errorf("add %q to docs/iam-policy.json: the commands need it (for %s)", a, call)
		}
	}
	for _, a := range listed {
		if _, ok := calledBy[a]; !ok && notReachedHere[a] == "" {
			t.Errorf("remove %q from docs/iam-policy.json: no command calls it (or, if a new call needs it, map the call to it in this test)", a)
		}
	}
}

// policyActions are the actions a policy document allows, and it checks
// the document's conditions: PassRole only to EC2 and ECS tasks, the two
// managed policies only, and no partition written out.
func policyActions(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "arn:aws:") {
		t.Errorf("%s names the aws partition: write arn:*: so it works in aws-cn and aws-us-gov too", path)
	}
	var doc struct {
		Statement []struct {
			Action    json.RawMessage
			Condition map[string]map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, st := range doc.Statement {
		var actions []string
		if err := json.Unmarshal(st.Action, &actions); err != nil {
			var one string
			if err := json.Unmarshal(st.Action, &one); err != nil {
				t.Fatalf("action %s: %v", st.Action, err)
			}
			actions = []string{one}
		}
		for _, a := range actions {
			switch a {
			case "iam:PassRole":
				if v := string(st.Condition["StringEquals"]["iam:PassedToService"]); !strings.Contains(v, "ec2.amazonaws.com") || !strings.Contains(v, "ecs-tasks.amazonaws.com") || len(actions) != 1 {
					t.Errorf("iam:PassRole must stand alone, conditioned on iam:PassedToService ec2 and ecs-tasks, got %s", v)
				}
			case "iam:AttachRolePolicy", "iam:DetachRolePolicy":
				if v := string(st.Condition["ArnLike"]["iam:PolicyARN"]); !strings.Contains(v, "AmazonEC2ContainerServiceforEC2Role") || !strings.Contains(v, "AWSXRayDaemonWriteAccess") {
					t.Errorf("%s must be conditioned on iam:PolicyARN, the two managed policies, got %q", a, v)
				}
			}
		}
		all = append(all, actions...)
	}
	return all
}
