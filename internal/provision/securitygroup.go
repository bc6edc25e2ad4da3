package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/batchxray/batchxray/internal/waiter"
)

// network is the VPC and subnets the compute environment's instances run
// in: the user's (--subnets), or the default VPC's default subnets.
type network struct {
	vpcID   string
	subnets []string
}

// ErrNoDefaultVPC says what to do when the region has no default VPC.
var ErrNoDefaultVPC = errors.New("the region has no default VPC: pass --subnets ID,ID (and --security-group ID) of your own VPC, or create a default one with `aws ec2 create-default-vpc`")

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// network is the user's subnets, checked (they exist and share one VPC),
// or without them the default network.
func (p *Provisioner) network(ctx context.Context, subnets []string) (network, error) {
	if len(subnets) == 0 {
		return p.defaultNetwork(ctx)
	}
	out, err := p.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: subnets})
	if isCode(err, "InvalidSubnetID.NotFound", "InvalidSubnetID.Malformed") {
		return network{}, fmt.Errorf("--subnets: %s", errorMessage(err))
	}
	if err != nil {
		return network{}, fmt.Errorf("describe subnets: %w", err)
	}
	n := network{subnets: subnets}
	for _, sn := range out.Subnets {
		vpc := aws.ToString(sn.VpcId)
		if n.vpcID != "" && vpc != n.vpcID {
			return network{}, fmt.Errorf("--subnets: the subnets are in more than one VPC (%s and %s): give subnets of one VPC", n.vpcID, vpc)
		}
		n.vpcID = vpc
	}
	if len(out.Subnets) != len(subnets) {
		return network{}, fmt.Errorf("--subnets: %d of the %d subnets exist", len(out.Subnets), len(subnets))
	}
	return n, nil
}

// errorMessage is an AWS error's message, without the SDK's wrapping.
func errorMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return err.Error()
}

// userGroup checks the user's security group is in the network's VPC.
func (p *Provisioner) userGroup(ctx context.Context, id string, n network) error {
	out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if isCode(err, "InvalidGroup.NotFound", "InvalidGroupId.Malformed") {
		return fmt.Errorf("--security-group: %s", errorMessage(err))
	}
	if err != nil {
		return fmt.Errorf("describe security group %s: %w", id, err)
	}
	if len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].VpcId) != n.vpcID {
		return fmt.Errorf("--security-group: %s is not in the subnets' VPC %s", id, n.vpcID)
	}
	return nil
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

// securityGroup is the instances' security group in the network: no
// inbound rules, AWS's default outbound rule; or the user's own group
// (--security-group), which is checked and left as it is. Its ID is the
// Result's ID; the compute environment also takes the network plan found.
type securityGroup struct {
	done
	p *Provisioner
	// subnets and own (a security group ID) are the user's network, if any.
	subnets []string
	own     string

	net      network                  // what Up or plan found
	netKnown bool                     // Up has read net, so plan need not
	group    *ec2types.SecurityGroup  // what plan found, nil for none
	found    []ec2types.SecurityGroup // what find found, in every VPC
}

func (s *securityGroup) kind() string { return "security group" }
func (s *securityGroup) name() string {
	if s.own != "" {
		return s.own
	}
	return s.p.names.SecurityGroup
}

func (s *securityGroup) plan(ctx context.Context) (Result, error) {
	p, name := s.p, s.p.names.SecurityGroup
	if !s.netKnown {
		var err error
		if s.net, err = p.network(ctx, s.subnets); err != nil {
			return Result{}, err
		}
	}
	if s.own != "" {
		if err := p.userGroup(ctx, s.own, s.net); err != nil {
			return Result{}, err
		}
		return Result{Action: Unchanged, ID: s.own, Detail: "yours, in " + s.net.vpcID}, nil
	}
	out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		filter("group-name", name), filter("vpc-id", s.net.vpcID),
	}})
	if err != nil {
		return Result{}, fmt.Errorf("describe security groups: %w", err)
	}
	if len(out.SecurityGroups) == 0 {
		s.group = nil
		return Result{Action: Create}, nil
	}
	s.group = &out.SecurityGroups[0]
	if !p.owned(fromEC2Tags(s.group.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"security group", name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ID: aws.ToString(s.group.GroupId)}
	if len(s.group.IpPermissions) > 0 {
		res.Action, res.Detail = Update, "remove inbound rules"
	}
	return res, nil
}

func (s *securityGroup) apply(ctx context.Context) (Result, error) {
	p, name := s.p, s.p.names.SecurityGroup
	if s.group != nil {
		if _, err := p.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: s.group.GroupId, IpPermissions: s.group.IpPermissions}); err != nil {
			return Result{}, fmt.Errorf("revoke inbound rules: %w", err)
		}
		return s.out, nil
	}
	out, err := p.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:   &name,
		Description: aws.String("batchxray stack " + p.names.Stack + ": Batch instances, no inbound access"),
		VpcId:       &s.net.vpcID,
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

// find looks in every VPC: a group left in one that is no longer the
// default is the stack's too.
func (s *securityGroup) find(ctx context.Context) (Result, error) {
	out, err := s.p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{filter("group-name", s.p.names.SecurityGroup)}})
	if err != nil {
		return Result{}, fmt.Errorf("describe: %w", err)
	}
	s.found = out.SecurityGroups
	if len(s.found) == 0 {
		return Result{Action: Absent}, nil
	}
	return Result{Action: Delete}, nil
}

// delete removes the stack's groups and leaves the others, which it
// reports.
func (s *securityGroup) delete(ctx context.Context) (Result, error) {
	p := s.p
	res := Result{Action: Absent}
	var notOurs error
	for _, sg := range s.found {
		if !p.owned(fromEC2Tags(sg.Tags)) {
			res.Action, notOurs = NotOurs, &NotOursError{"security group", p.names.SecurityGroup + " (" + aws.ToString(sg.GroupId) + ")", p.names.Stack}
			continue
		}
		// The instances' network interfaces can outlive the compute
		// environment for a while: DependencyViolation until they are gone.
		err := waiter.Wait(ctx, "delete security group "+aws.ToString(sg.GroupId), p.waitOptions(), func(ctx context.Context) (bool, error) {
			_, err := p.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
			switch {
			case err == nil, isCode(err, "InvalidGroup.NotFound"):
				return true, nil
			case isCode(err, "DependencyViolation"):
				return false, nil
			}
			return false, fmt.Errorf("delete: %w", err)
		})
		if err != nil {
			return Result{}, err
		}
		res.Action, res.ID = Delete, aws.ToString(sg.GroupId)
	}
	return res, notOurs
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
