package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// instanceProfile is the instance profile holding the instance role, which
// the compute environment's instances run with.
type instanceProfile struct {
	done
	p *Provisioner

	exists bool                      // what plan found
	found  *iamtypes.InstanceProfile // what find found
}

func (ip *instanceProfile) kind() string { return "IAM instance profile" }
func (ip *instanceProfile) name() string { return ip.p.names.InstanceProfile }

func (ip *instanceProfile) plan(ctx context.Context) (Result, error) {
	p, name := ip.p, ip.p.names.InstanceProfile
	got, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: &name})
	switch {
	case isCode(err, "NoSuchEntity"):
		ip.exists = false
		return Result{Action: Create}, nil
	case err != nil:
		return Result{}, fmt.Errorf("get instance profile: %w", err)
	}
	ip.exists = true
	if !p.owned(fromIAMTags(got.InstanceProfile.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM instance profile", name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(got.InstanceProfile.Arn)}
	for _, r := range got.InstanceProfile.Roles {
		if aws.ToString(r.RoleName) == p.names.InstanceRole {
			return res, nil
		}
	}
	res.Action, res.Detail = Update, "add role"
	return res, nil
}

func (ip *instanceProfile) apply(ctx context.Context) (Result, error) {
	p, name, roleName := ip.p, ip.p.names.InstanceProfile, ip.p.names.InstanceRole
	res := ip.out
	if !ip.exists {
		out, err := p.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: &name, Tags: iamTags(p.stackTags())})
		if err != nil {
			return Result{}, fmt.Errorf("create instance profile: %w", err)
		}
		res = Result{Action: Create, ARN: aws.ToString(out.InstanceProfile.Arn)}
	}
	if _, err := p.iam.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: &name, RoleName: &roleName}); err != nil {
		return Result{}, fmt.Errorf("add role %s: %w", roleName, err)
	}
	return res, nil
}

func (ip *instanceProfile) find(ctx context.Context) (Result, error) {
	p, name := ip.p, ip.p.names.InstanceProfile
	out, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: &name})
	if isCode(err, "NoSuchEntity") {
		return Result{Action: Absent}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("get: %w", err)
	}
	ip.found = out.InstanceProfile
	if !p.owned(fromIAMTags(ip.found.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM instance profile", name, p.names.Stack}
	}
	return Result{Action: Delete, ARN: aws.ToString(ip.found.Arn)}, nil
}

// delete takes the roles out of the profile first, as IAM requires.
func (ip *instanceProfile) delete(ctx context.Context) (Result, error) {
	p, name := ip.p, ip.p.names.InstanceProfile
	for _, r := range ip.found.Roles {
		if _, err := p.iam.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: &name, RoleName: r.RoleName}); err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("remove role %s: %w", aws.ToString(r.RoleName), err)
		}
	}
	if _, err := p.iam.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: &name}); err != nil && !isCode(err, "NoSuchEntity") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return ip.out, nil
}
