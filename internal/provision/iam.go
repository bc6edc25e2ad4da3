package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// The instance role's managed policies: the ECS agent's, and the X-Ray
// daemon's right to send segments.
var instanceRolePolicies = []string{
	"policy/service-role/AmazonEC2ContainerServiceforEC2Role",
	"policy/AWSXRayDaemonWriteAccess",
}

// managedPolicyARN is an AWS managed policy's ARN in the partition.
func managedPolicyARN(partition, policy string) string {
	return "arn:" + partition + ":iam::aws:" + policy
}

func trustPolicy(service string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
}

// ec2Principal is EC2's service principal; China's differs.
func ec2Principal(partition string) string {
	if partition == "aws-cn" {
		return "ec2.amazonaws.com.cn"
	}
	return "ec2.amazonaws.com"
}

// jobRolePolicy lets the job write and read its own prefix of the stack's
// bucket, and nothing else.
func jobRolePolicy(partition, bucket string) string {
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"arn:` + partition + `:s3:::` + bucket + `/jobs/*"},` +
		`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:` + partition + `:s3:::` + bucket + `","Condition":{"StringLike":{"s3:prefix":"jobs/*"}}}]}`
}

// sameJSON compares two policy documents by meaning. IAM returns them
// URL-encoded, so both are unescaped first.
func sameJSON(a, b string) bool {
	ua, err1 := url.QueryUnescape(a)
	ub, err2 := url.QueryUnescape(b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	var va, vb any
	if json.Unmarshal([]byte(ua), &va) != nil || json.Unmarshal([]byte(ub), &vb) != nil {
		return ua == ub
	}
	return reflect.DeepEqual(va, vb)
}

func iamTags(m map[string]string) []iamtypes.Tag {
	var tags []iamtypes.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, iamtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

func fromIAMTags(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// role is what a role should be.
type role struct {
	name, trust string
	managed     []string // policy ARNs
	inline      map[string]string
}

// ensureRole creates or converges a role. With dry true it only reads.
func (p *Provisioner) ensureRole(ctx context.Context, dry bool, want role) (Result, error) {
	got, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &want.name})
	switch {
	case isCode(err, "NoSuchEntity"):
		if dry {
			return Result{Action: Create}, nil
		}
		out, err := p.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 &want.name,
			AssumeRolePolicyDocument: &want.trust,
			Description:              aws.String("batchxray stack " + p.names.Stack),
			Tags:                     iamTags(p.stackTags()),
		})
		if err != nil {
			return Result{}, fmt.Errorf("create role: %w", err)
		}
		if err := p.convergeRolePolicies(ctx, want); err != nil {
			return Result{}, err
		}
		return Result{Action: Create, ARN: aws.ToString(out.Role.Arn)}, nil
	case err != nil:
		return Result{}, fmt.Errorf("get role: %w", err)
	}
	r := got.Role
	if !p.owned(fromIAMTags(r.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM role", want.name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(r.Arn)}
	if !sameJSON(aws.ToString(r.AssumeRolePolicyDocument), want.trust) {
		res.Action, res.Detail = Update, "trust policy"
		if !dry {
			if _, err := p.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &want.name, PolicyDocument: &want.trust}); err != nil {
				return Result{}, fmt.Errorf("update trust policy: %w", err)
			}
		}
	}
	attached, err := p.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &want.name})
	if err != nil {
		return Result{}, fmt.Errorf("list attached policies: %w", err)
	}
	var have []string
	for _, a := range attached.AttachedPolicies {
		have = append(have, aws.ToString(a.PolicyArn))
	}
	missing := slices.DeleteFunc(slices.Clone(want.managed), func(a string) bool { return slices.Contains(have, a) })
	for name, doc := range want.inline {
		cur, err := p.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &want.name, PolicyName: &name})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("get inline policy %s: %w", name, err)
		}
		if err == nil && sameJSON(aws.ToString(cur.PolicyDocument), doc) {
			delete(want.inline, name)
		}
	}
	if len(missing) > 0 || len(want.inline) > 0 {
		res.Action, res.Detail = Update, "policies"
		if !dry {
			if err := p.convergeRolePolicies(ctx, role{name: want.name, managed: missing, inline: want.inline}); err != nil {
				return Result{}, err
			}
		}
	}
	return res, nil
}

func (p *Provisioner) convergeRolePolicies(ctx context.Context, want role) error {
	for _, arn := range want.managed {
		if _, err := p.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &want.name, PolicyArn: aws.String(arn)}); err != nil {
			return fmt.Errorf("attach %s: %w", arn, err)
		}
	}
	for _, name := range sortedKeys(want.inline) {
		if _, err := p.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &want.name, PolicyName: aws.String(name), PolicyDocument: aws.String(want.inline[name])}); err != nil {
			return fmt.Errorf("put inline policy %s: %w", name, err)
		}
	}
	return nil
}

// ensureInstanceProfile creates or converges the instance profile holding
// the instance role.
func (p *Provisioner) ensureInstanceProfile(ctx context.Context, dry bool) (Result, error) {
	name, roleName := p.names.InstanceProfile, p.names.InstanceRole
	got, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: &name})
	var res Result
	switch {
	case isCode(err, "NoSuchEntity"):
		if dry {
			return Result{Action: Create}, nil
		}
		out, err := p.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: &name, Tags: iamTags(p.stackTags())})
		if err != nil {
			return Result{}, fmt.Errorf("create instance profile: %w", err)
		}
		res = Result{Action: Create, ARN: aws.ToString(out.InstanceProfile.Arn)}
	case err != nil:
		return Result{}, fmt.Errorf("get instance profile: %w", err)
	default:
		ip := got.InstanceProfile
		if !p.owned(fromIAMTags(ip.Tags)) {
			return Result{Action: NotOurs}, &NotOursError{"IAM instance profile", name, p.names.Stack}
		}
		res = Result{Action: Unchanged, ARN: aws.ToString(ip.Arn)}
		for _, r := range ip.Roles {
			if aws.ToString(r.RoleName) == roleName {
				return res, nil
			}
		}
		res.Action, res.Detail = Update, "add role"
		if dry {
			return res, nil
		}
	}
	if _, err := p.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: &name, RoleName: &roleName}); err != nil {
		return Result{}, fmt.Errorf("add role %s: %w", roleName, err)
	}
	return res, nil
}
