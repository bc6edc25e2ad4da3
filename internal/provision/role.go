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

// The instance role's managed policies: the ECS agent's, and the tracing
// agent's right to send segments. Both agents need the same and no more:
// the X-Ray daemon, and the CloudWatch agent configured by userdata with
// traces only (its X-Ray UDP and OTLP receivers both export through X-Ray's
// PutTraceSegments, and it asks for sampling rules and targets), need
// exactly AWSXRayDaemonWriteAccess (xray:PutTraceSegments,
// PutTelemetryRecords, GetSamplingRules, GetSamplingTargets,
// GetSamplingStatisticSummaries). CloudWatchAgentServerPolicy would add
// metrics, logs, ec2:DescribeTags and SSM parameters, which a traces-only
// agent never uses, so --agent cloudwatch attaches nothing more.
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

// iamRole is an IAM role of the stack: the instance role or the job role.
type iamRole struct {
	done
	p    *Provisioner
	want role

	// What plan found: whether the role exists, and what apply must do.
	exists     bool
	trustDrift bool
	fix        role // missing managed and drifted inline policies
}

func (r *iamRole) kind() string { return "IAM role" }
func (r *iamRole) name() string { return r.want.name }

func (r *iamRole) plan(ctx context.Context) (Result, error) {
	p, want := r.p, r.want
	got, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &want.name})
	switch {
	case isCode(err, "NoSuchEntity"):
		r.exists, r.fix = false, want
		return Result{Action: Create}, nil
	case err != nil:
		return Result{}, fmt.Errorf("get role: %w", err)
	}
	r.exists = true
	if !p.owned(fromIAMTags(got.Role.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM role", want.name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(got.Role.Arn)}
	if r.trustDrift = !sameJSON(aws.ToString(got.Role.AssumeRolePolicyDocument), want.trust); r.trustDrift {
		res.Action, res.Detail = Update, "trust policy"
	}
	attached, err := p.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &want.name})
	if err != nil {
		return Result{}, fmt.Errorf("list attached policies: %w", err)
	}
	var have []string
	for _, a := range attached.AttachedPolicies {
		have = append(have, aws.ToString(a.PolicyArn))
	}
	r.fix = role{name: want.name, managed: slices.DeleteFunc(slices.Clone(want.managed), func(a string) bool { return slices.Contains(have, a) }), inline: map[string]string{}}
	for name, doc := range want.inline {
		cur, err := p.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &want.name, PolicyName: &name})
		if err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("get inline policy %s: %w", name, err)
		}
		if err != nil || !sameJSON(aws.ToString(cur.PolicyDocument), doc) {
			r.fix.inline[name] = doc
		}
	}
	if len(r.fix.managed) > 0 || len(r.fix.inline) > 0 {
		res.Action, res.Detail = Update, "policies"
	}
	return res, nil
}

func (r *iamRole) apply(ctx context.Context) (Result, error) {
	p, want := r.p, r.want
	if !r.exists {
		out, err := p.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName:                 &want.name,
			AssumeRolePolicyDocument: &want.trust,
			Description:              aws.String("batchxray stack " + p.names.Stack),
			Tags:                     iamTags(p.stackTags()),
		})
		if err != nil {
			return Result{}, fmt.Errorf("create role: %w", err)
		}
		if err := r.convergePolicies(ctx, want); err != nil {
			return Result{}, err
		}
		return Result{Action: Create, ARN: aws.ToString(out.Role.Arn)}, nil
	}
	res := r.out
	if r.trustDrift {
		if _, err := p.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &want.name, PolicyDocument: &want.trust}); err != nil {
			return Result{}, fmt.Errorf("update trust policy: %w", err)
		}
	}
	return res, r.convergePolicies(ctx, r.fix)
}

func (r *iamRole) convergePolicies(ctx context.Context, want role) error {
	for _, arn := range want.managed {
		if _, err := r.p.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &want.name, PolicyArn: aws.String(arn)}); err != nil {
			return fmt.Errorf("attach %s: %w", arn, err)
		}
	}
	for _, name := range sortedKeys(want.inline) {
		if _, err := r.p.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &want.name, PolicyName: aws.String(name), PolicyDocument: aws.String(want.inline[name])}); err != nil {
			return fmt.Errorf("put inline policy %s: %w", name, err)
		}
	}
	return nil
}

func (r *iamRole) find(ctx context.Context) (Result, error) {
	p, name := r.p, r.want.name
	out, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if isCode(err, "NoSuchEntity") {
		return Result{Action: Absent}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("get: %w", err)
	}
	if !p.owned(fromIAMTags(out.Role.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM role", name, p.names.Stack}
	}
	return Result{Action: Delete, ARN: aws.ToString(out.Role.Arn)}, nil
}

func (r *iamRole) delete(ctx context.Context) (Result, error) {
	p, name := r.p, r.want.name
	attached, err := p.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	if err != nil {
		return Result{}, fmt.Errorf("list attached policies: %w", err)
	}
	for _, a := range attached.AttachedPolicies {
		if _, err := p.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &name, PolicyArn: a.PolicyArn}); err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("detach %s: %w", aws.ToString(a.PolicyArn), err)
		}
	}
	inline, err := p.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name})
	if err != nil {
		return Result{}, fmt.Errorf("list inline policies: %w", err)
	}
	for _, pn := range inline.PolicyNames {
		if _, err := p.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String(pn)}); err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("delete inline policy %s: %w", pn, err)
		}
	}
	if _, err := p.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name}); err != nil && !isCode(err, "NoSuchEntity") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return r.out, nil
}
