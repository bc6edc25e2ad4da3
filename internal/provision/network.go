package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// network is the default VPC and its default subnets, where the compute
// environment's instances run.
type network struct {
	vpcID   string
	subnets []string
}

// ErrNoDefaultVPC says what to do when the region has no default VPC.
var ErrNoDefaultVPC = errors.New("the region has no default VPC: create one with `aws ec2 create-default-vpc`, or use another region")

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

func (p *Provisioner) defaultNetwork(ctx context.Context) (network, error) {
	vpcs, err := p.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{filter("isDefault", "true")}})
	if err != nil {
		return network{}, fmt.Errorf("describe default VPC: %w", err)
	}
	if len(vpcs.Vpcs) == 0 {
		return network{}, ErrNoDefaultVPC
	}
	n := network{vpcID: aws.ToString(vpcs.Vpcs[0].VpcId)}
	subnets, err := p.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{filter("vpc-id", n.vpcID), filter("default-for-az", "true")}})
	if err != nil {
		return network{}, fmt.Errorf("describe default subnets: %w", err)
	}
	for _, s := range subnets.Subnets {
		n.subnets = append(n.subnets, aws.ToString(s.SubnetId))
	}
	if len(n.subnets) == 0 {
		return network{}, fmt.Errorf("the default VPC %s has no default subnets", n.vpcID)
	}
	return n, nil
}

// findSecurityGroup returns the group with the stack's name in the VPC, or nil.
func (p *Provisioner) findSecurityGroup(ctx context.Context, vpcID string) (*ec2types.SecurityGroup, error) {
	out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		filter("group-name", p.names.SecurityGroup), filter("vpc-id", vpcID),
	}})
	if err != nil {
		return nil, fmt.Errorf("describe security groups: %w", err)
	}
	if len(out.SecurityGroups) == 0 {
		return nil, nil
	}
	return &out.SecurityGroups[0], nil
}

// ensureSecurityGroup creates or converges the instances' security group:
// no inbound rules, AWS's default outbound rule. Its ID is the Result's ID.
func (p *Provisioner) ensureSecurityGroup(ctx context.Context, dry bool, n network) (Result, error) {
	name := p.names.SecurityGroup
	sg, err := p.findSecurityGroup(ctx, n.vpcID)
	if err != nil {
		return Result{}, err
	}
	if sg == nil {
		if dry {
			return Result{Action: Create}, nil
		}
		out, err := p.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName:   &name,
			Description: aws.String("batchxray stack " + p.names.Stack + ": Batch instances, no inbound access"),
			VpcId:       &n.vpcID,
			TagSpecifications: []ec2types.TagSpecification{{
				ResourceType: ec2types.ResourceTypeSecurityGroup,
				Tags:         ec2Tags(p.stackTags()),
			}},
		})
		if err != nil {
			return Result{}, fmt.Errorf("create security group: %w", err)
		}
		return Result{Action: Create, ID: aws.ToString(out.GroupId), ARN: aws.ToString(out.SecurityGroupArn)}, nil
	}
	if !p.owned(fromEC2Tags(sg.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"security group", name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ID: aws.ToString(sg.GroupId)}
	if len(sg.IpPermissions) > 0 {
		res.Action, res.Detail = Update, "remove inbound rules"
		if !dry {
			if _, err := p.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: sg.IpPermissions}); err != nil {
				return Result{}, fmt.Errorf("revoke inbound rules: %w", err)
			}
		}
	}
	return res, nil
}

func ec2Tags(m map[string]string) []ec2types.Tag {
	var tags []ec2types.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

func fromEC2Tags(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
