package iam_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/batchxray/batchxray/internal/localaws"
)

func is[T error](err error) bool {
	var e T
	return errors.As(err, &e)
}

// TestRules is the table of IAM's rules the stand-in keeps: each row breaks
// one and must get IAM's own error code and HTTP status (and the SDK's typed
// error where the SDK has one).
func TestRules(t *testing.T) {
	type client = *iam.Client
	role := func(name string) func(*testing.T, client) {
		return func(t *testing.T, c client) { createRole(t, c, name) }
	}
	trust := func(doc string) func(context.Context, client) error {
		return func(ctx context.Context, c client) error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(doc)})
			return err
		}
	}
	inline := func(doc string) func(context.Context, client) error {
		return func(ctx context.Context, c client) error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
			return err
		}
	}
	createWith := func(in iam.CreateRoleInput) func(context.Context, client) error {
		return func(ctx context.Context, c client) error {
			if in.AssumeRolePolicyDocument == nil {
				in.AssumeRolePolicyDocument = aws.String(ec2Trust)
			}
			_, err := c.CreateRole(ctx, &in)
			return err
		}
	}
	roleInProfile := func(t *testing.T, c client) {
		createRole(t, c, "r")
		createProfile(t, c, "ip")
		must(c.AddRoleToInstanceProfile(context.Background(), &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}))(t)
	}
	manyTags := func(n int) []iamtypes.Tag {
		var out []iamtypes.Tag
		for i := range n {
			out = append(out, iamtypes.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
		}
		return out
	}
	bigPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":[` +
		strings.TrimSuffix(strings.Repeat(`"arn:aws:s3:::bucket/some/rather/long/prefix/*",`, 250), ",") + `]}]}`

	tests := []struct {
		rule   string
		setup  func(*testing.T, client)
		call   func(context.Context, client) error
		code   string
		status int
		typed  func(error) bool
	}{
		{rule: "role name must match [\\w+=,.@-]+", call: createWith(iam.CreateRoleInput{RoleName: aws.String("bad name!")}),
			code: "ValidationError", status: 400},
		{rule: "role name is at most 64 characters", call: createWith(iam.CreateRoleInput{RoleName: aws.String(strings.Repeat("r", 65))}),
			code: "ValidationError", status: 400},
		{rule: "instance profile name is at most 128 characters", call: func(ctx context.Context, c client) error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(strings.Repeat("p", 129))})
			return err
		}, code: "ValidationError", status: 400},
		{rule: "instance profile name must match [\\w+=,.@-]+", call: func(ctx context.Context, c client) error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("a/b")})
			return err
		}, code: "ValidationError", status: 400},
		{rule: "path begins and ends with /", call: createWith(iam.CreateRoleInput{RoleName: aws.String("r"), Path: aws.String("/batchxray")}),
			code: "ValidationError", status: 400},
		{rule: "max session duration is 3600 to 43200 seconds", call: createWith(iam.CreateRoleInput{RoleName: aws.String("r"), MaxSessionDuration: aws.Int32(43201)}),
			code: "ValidationError", status: 400},
		{rule: "description is at most 1000 characters", call: createWith(iam.CreateRoleInput{RoleName: aws.String("r"), Description: aws.String(strings.Repeat("d", 1001))}),
			code: "ValidationError", status: 400},
		{rule: "role names are unique regardless of case", setup: role("Instance"), call: createWith(iam.CreateRoleInput{RoleName: aws.String("instance")}),
			code: "EntityAlreadyExists", status: 409, typed: is[*iamtypes.EntityAlreadyExistsException]},
		{rule: "instance profile names are unique", setup: func(t *testing.T, c client) { createProfile(t, c, "ip") }, call: func(ctx context.Context, c client) error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("IP")})
			return err
		}, code: "EntityAlreadyExists", status: 409, typed: is[*iamtypes.EntityAlreadyExistsException]},
		{rule: "a missing role is NoSuchEntity", call: func(ctx context.Context, c client) error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nosuch")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "deleting a missing role is NoSuchEntity", call: func(ctx context.Context, c client) error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("nosuch")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "a missing instance profile is NoSuchEntity", call: func(ctx context.Context, c client) error {
			_, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nosuch")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "tagging a missing role is NoSuchEntity", call: func(ctx context.Context, c client) error {
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("nosuch"), Tags: manyTags(1)})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "adding a missing role to a profile is NoSuchEntity", setup: func(t *testing.T, c client) { createProfile(t, c, "ip") }, call: func(ctx context.Context, c client) error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("nosuch")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "a role with managed policies attached cannot be deleted", setup: func(t *testing.T, c client) {
			createRole(t, c, "r")
			must(c.AttachRolePolicy(context.Background(), &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(xrayARN)}))(t)
		}, call: func(ctx context.Context, c client) error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
			return err
		}, code: "DeleteConflict", status: 409, typed: is[*iamtypes.DeleteConflictException]},
		{rule: "a role with inline policies cannot be deleted", setup: func(t *testing.T, c client) {
			createRole(t, c, "r")
			must(c.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"), PolicyDocument: aws.String(s3Policy)}))(t)
		}, call: func(ctx context.Context, c client) error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
			return err
		}, code: "DeleteConflict", status: 409, typed: is[*iamtypes.DeleteConflictException]},
		{rule: "a role in an instance profile cannot be deleted", setup: roleInProfile, call: func(ctx context.Context, c client) error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r")})
			return err
		}, code: "DeleteConflict", status: 409, typed: is[*iamtypes.DeleteConflictException]},
		{rule: "an instance profile holding a role cannot be deleted", setup: roleInProfile, call: func(ctx context.Context, c client) error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("ip")})
			return err
		}, code: "DeleteConflict", status: 409, typed: is[*iamtypes.DeleteConflictException]},
		{rule: "an instance profile holds one role", setup: func(t *testing.T, c client) { roleInProfile(t, c); createRole(t, c, "second") }, call: func(ctx context.Context, c client) error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("second")})
			if err != nil && !strings.Contains(err.Error(), "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1") {
				return fmt.Errorf("message does not name the quota: %w", err)
			}
			return err
		}, code: "LimitExceeded", status: 409, typed: is[*iamtypes.LimitExceededException]},
		{rule: "removing a role a profile does not hold is NoSuchEntity", setup: func(t *testing.T, c client) { createRole(t, c, "r"); createProfile(t, c, "ip") }, call: func(ctx context.Context, c client) error {
			_, err := c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "a trust policy must be valid JSON", call: trust(`{"Statement": [`),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "a trust policy must have a Statement", call: trust(`{"Version":"2012-10-17"}`),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "a trust policy must name a Principal", call: trust(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "a statement's Effect is Allow or Deny", call: trust(`{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "UpdateAssumeRolePolicy checks the document too", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("r"), PolicyDocument: aws.String("not json")})
			return err
		}, code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "an inline policy must be valid JSON", setup: role("r"), call: inline(`{"Statement":`),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "an inline policy must have a Statement", setup: role("r"), call: inline(`{"Version":"2012-10-17"}`),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "an inline policy must not name a Principal", setup: role("r"), call: inline(strings.Replace(ec2Trust, "sts:AssumeRole", "s3:GetObject", 1)),
			code: "MalformedPolicyDocument", status: 400, typed: is[*iamtypes.MalformedPolicyDocumentException]},
		{rule: "a role's inline policies total at most 10240 characters", setup: role("r"), call: inline(bigPolicy),
			code: "LimitExceeded", status: 409, typed: is[*iamtypes.LimitExceededException]},
		{rule: "a missing inline policy is NoSuchEntity", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("nosuch")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "deleting a missing inline policy is NoSuchEntity", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("nosuch")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "attaching an unknown policy is NoSuchEntity", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "a policy ARN must be an IAM policy ARN", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("AWSXRayDaemonWriteAccess")})
			return err
		}, code: "InvalidInput", status: 400, typed: is[*iamtypes.InvalidInputException]},
		{rule: "detaching a policy that is not attached is NoSuchEntity", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(xrayARN)})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "an unknown managed policy is NoSuchEntity", call: func(ctx context.Context, c client) error {
			_, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
			return err
		}, code: "NoSuchEntity", status: 404, typed: is[*iamtypes.NoSuchEntityException]},
		{rule: "a role has at most 50 tags", setup: role("r"), call: func(ctx context.Context, c client) error {
			if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: manyTags(50)}); err != nil {
				return fmt.Errorf("50 tags must be accepted: %w", err)
			}
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []iamtypes.Tag{{Key: aws.String("one-more"), Value: aws.String("v")}}})
			return err
		}, code: "LimitExceeded", status: 409, typed: is[*iamtypes.LimitExceededException]},
		{rule: "tag keys in one request are unique regardless of case", setup: role("r"), call: func(ctx context.Context, c client) error {
			_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: iamTags("k", "1", "K", "2")})
			return err
		}, code: "InvalidInput", status: 400, typed: is[*iamtypes.InvalidInputException]},
		{rule: "the aws: tag prefix is reserved", call: func(ctx context.Context, c client) error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip"), Tags: iamTags("aws:owner", "me")})
			return err
		}, code: "InvalidInput", status: 400, typed: is[*iamtypes.InvalidInputException]},
		{rule: "MaxItems is 1 to 1000", call: func(ctx context.Context, c client) error {
			_, err := c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1001)})
			return err
		}, code: "ValidationError", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			c, _ := start(t, localaws.Options{})
			if tt.setup != nil {
				tt.setup(t, c)
			}
			err := tt.call(context.Background(), c)
			if err == nil {
				t.Fatalf("the call succeeded; want %s", tt.code)
			}
			code, status := apiError(t, err)
			if code != tt.code || status != tt.status {
				t.Errorf("got %s %d (%v), want %s %d", code, status, err, tt.code, tt.status)
			}
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("%T is not the SDK's typed error for %s", errors.Unwrap(err), tt.code)
			}
		})
	}
}

// TestLimitsAreInclusive checks the edges the rules allow, so the rules
// above do not pass by refusing everything.
func TestLimitsAreInclusive(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t, localaws.Options{})
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(strings.Repeat("r", 64)), AssumeRolePolicyDocument: aws.String(ec2Trust),
		Path: aws.String("/a/b/"), MaxSessionDuration: aws.Int32(43200), Description: aws.String(strings.Repeat("d", 1000)),
	}); err != nil {
		t.Errorf("CreateRole at the limits: %v", err)
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Az09_+=,.@-"), AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
		t.Errorf("CreateRole with every allowed punctuation: %v", err)
	}
	if _, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(strings.Repeat("p", 128))}); err != nil {
		t.Errorf("CreateInstanceProfile with a 128-character name: %v", err)
	}
}
