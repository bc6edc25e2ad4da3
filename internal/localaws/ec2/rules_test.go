package ec2_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestRules is the table of EC2's rules the stand-in keeps: each row breaks
// one and must get EC2's own error code, with 400.
func TestRules(t *testing.T) {
	type env struct {
		c      *ec2.Client
		vpc    string
		sg     string // a group the setup created, named "g"
		ref    string // a group "g"'s ingress rule points at, named "ref"
		def    string // the VPC's default group
		ltID   string // the template "tmpl", version 1
		absent string // a well-formed group ID nobody has
	}
	const absentLT = "lt-0123456789abcdef0"
	withData := func(d *types.RequestLaunchTemplateData) func(env) error {
		return func(e env) error {
			_, err := e.c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("other"), LaunchTemplateData: d})
			return err
		}
	}
	createGroupNamed := func(name, desc string) func(env) error {
		return func(e env) error {
			_, err := e.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(desc)})
			return err
		}
	}
	ingress := func(perms ...types.IpPermission) func(env) error {
		return func(e env) error {
			_, err := e.c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(e.sg), IpPermissions: perms})
			return err
		}
	}
	versions := func(vs ...string) func(env) error {
		return func(e env) error {
			_, err := e.c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(e.ltID), Versions: vs})
			return err
		}
	}
	var manyTags []types.Tag
	for i := range 51 {
		manyTags = append(manyTags, tag(fmt.Sprintf("k%d", i), "v"))
	}

	for _, tc := range []struct {
		rule string
		call func(env) error
		code string
	}{
		// Security groups.
		{"a group name is unique in its VPC", createGroupNamed("g", "again"), "InvalidGroup.Duplicate"},
		{"the name default is reserved", createGroupNamed("default", "x"), "InvalidGroup.Reserved"},
		{"a group name may not look like a group ID", createGroupNamed("sg-mine", "x"), "InvalidParameterValue"},
		{"a group name is ASCII", createGroupNamed("grüppe", "x"), "InvalidParameterValue"},
		{"a group name is at most 255 characters", createGroupNamed(strings.Repeat("n", 256), "x"), "InvalidParameterValue"},
		{"a group description is ASCII", createGroupNamed("h", "beschreibung ü"), "InvalidParameterValue"},
		{"a group's VPC must exist", func(e env) error {
			_, err := e.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("h"), Description: aws.String("x"), VpcId: aws.String("vpc-0123456789abcdef0")})
			return err
		}, "InvalidVpcID.NotFound"},
		{"a group's tag specification is for a security-group", func(e env) error {
			_, err := e.c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("h"), Description: aws.String("x"),
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{tag("a", "b")}}}})
			return err
		}, "InvalidParameterValue"},
		{"describing a missing group ID", func(e env) error {
			_, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{e.absent}})
			return err
		}, "InvalidGroup.NotFound"},
		{"describing a missing group name", func(e env) error {
			_, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"nope"}})
			return err
		}, "InvalidGroup.NotFound"},
		{"a group ID is sg- and hex", func(e env) error {
			_, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-nothex"}})
			return err
		}, "InvalidGroupId.Malformed"},
		{"a filter name must be one EC2 knows", func(e env) error {
			_, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("colour", "red")}})
			return err
		}, "InvalidParameterValue"},
		{"MaxResults is at least 5", func(e env) error {
			_, err := e.c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(4)})
			return err
		}, "InvalidParameterValue"},
		{"deleting a missing group", func(e env) error {
			_, err := e.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.absent)})
			return err
		}, "InvalidGroup.NotFound"},
		{"deleting needs a group ID or name", func(e env) error {
			_, err := e.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{})
			return err
		}, "MissingParameter"},
		{"the default group cannot be deleted", func(e env) error {
			_, err := e.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.def)})
			return err
		}, "CannotDelete"},
		{"a group another group's rule points at cannot be deleted", func(e env) error {
			_, err := e.c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(e.ref)})
			return err
		}, "DependencyViolation"},

		// Rules.
		{"a rule is not authorized twice", ingress(tcp(22, "10.0.0.0/8")), "InvalidPermission.Duplicate"},
		{"a new group already allows all egress", func(e env) error {
			_, err := e.c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(e.sg), IpPermissions: []types.IpPermission{allTraffic}})
			return err
		}, "InvalidPermission.Duplicate"},
		{"revoking a rule the group does not have", func(e env) error {
			_, err := e.c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(e.sg), IpPermissions: []types.IpPermission{tcp(80, "10.0.0.0/8")}})
			return err
		}, "InvalidPermission.NotFound"},
		{"revoking a rule ID the group does not have", func(e env) error {
			_, err := e.c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(e.sg), SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
			return err
		}, "InvalidSecurityGroupRuleId.NotFound"},
		{"authorizing on a missing group", func(e env) error {
			_, err := e.c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(e.absent), IpPermissions: []types.IpPermission{tcp(22, "10.0.0.0/8")}})
			return err
		}, "InvalidGroup.NotFound"},
		{"a rule's peer group must exist", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(2),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String("sg-0123456789abcdef0")}}}), "InvalidGroup.NotFound"},
		{"a CIDR must be a CIDR", ingress(tcp(22, "10.0.0.0/33")), "InvalidParameterValue"},
		{"a CIDR has no host bits", ingress(tcp(22, "10.0.0.1/8")), "InvalidParameterValue"},
		{"a protocol must be known", ingress(types.IpPermission{IpProtocol: aws.String("tcpp"), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}), "InvalidParameterValue"},
		{"TCP needs both ports", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}), "InvalidParameterValue"},
		{"a port range goes up", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(90), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}}}), "InvalidParameterValue"},
		{"a rule needs a peer", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80)}), "MissingParameter"},

		// Tags.
		{"tag keys starting with aws: are reserved", func(e env) error {
			_, err := e.c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{e.sg}, Tags: []types.Tag{tag("aws:x", "y")}})
			return err
		}, "InvalidParameterValue"},
		{"a resource has at most 50 tags", func(e env) error {
			_, err := e.c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{e.sg}, Tags: manyTags})
			return err
		}, "TagLimitExceeded"},
		{"tagging a missing group", func(e env) error {
			_, err := e.c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{e.absent}, Tags: []types.Tag{tag("a", "b")}})
			return err
		}, "InvalidGroup.NotFound"},
		{"tagging a malformed ID", func(e env) error {
			_, err := e.c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"nonsense"}, Tags: []types.Tag{tag("a", "b")}})
			return err
		}, "InvalidID"},

		// The network.
		{"describing a missing VPC", func(e env) error {
			_, err := e.c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{"vpc-0123456789abcdef0"}})
			return err
		}, "InvalidVpcID.NotFound"},
		{"describing a missing subnet", func(e env) error {
			_, err := e.c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
			return err
		}, "InvalidSubnetID.NotFound"},

		// Launch templates.
		{"a launch template name is unique", func(e env) error {
			_, err := e.c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("tmpl"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
			return err
		}, "InvalidLaunchTemplateName.AlreadyExistsException"},
		{"a launch template name has 3 to 128 allowed characters", func(e env) error {
			_, err := e.c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("a b"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
			return err
		}, "InvalidLaunchTemplateName.MalformedException"},
		{"user data is base64", withData(&types.RequestLaunchTemplateData{UserData: aws.String("#!/bin/bash")}), "InvalidUserData.Malformed"},
		{"user data is at most 16 KB", withData(&types.RequestLaunchTemplateData{UserData: aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16385)))}), "InvalidUserData.Malformed"},
		{"HttpTokens is required or optional", withData(&types.RequestLaunchTemplateData{MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: "always"}}), "InvalidParameterValue"},
		{"the hop limit is 1 to 64", withData(&types.RequestLaunchTemplateData{MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(65)}}), "InvalidParameterValue"},
		{"a volume type must be known", withData(&types.RequestLaunchTemplateData{BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMappingRequest{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.LaunchTemplateEbsBlockDeviceRequest{VolumeType: "gp9"}}}}), "InvalidParameterValue"},
		{"launch template data tags instances, volumes or interfaces", withData(&types.RequestLaunchTemplateData{TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{tag("a", "b")}}}}), "InvalidParameterValue"},
		{"a template's own tag specification is for a launch-template", func(e env) error {
			_, err := e.c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("other"), LaunchTemplateData: &types.RequestLaunchTemplateData{},
				TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{tag("a", "b")}}}})
			return err
		}, "InvalidParameterValue"},
		{"describing a missing template name", func(e env) error {
			_, err := e.c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"describing a missing template ID", func(e env) error {
			_, err := e.c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{absentLT}})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"a template ID is lt- and hex", func(e env) error {
			_, err := e.c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-nothex"}})
			return err
		}, "InvalidLaunchTemplateId.Malformed"},
		{"a version of a missing template", func(e env) error {
			_, err := e.c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("nope"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"a source version must exist", func(e env) error {
			_, err := e.c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(e.ltID), SourceVersion: aws.String("9"), LaunchTemplateData: &types.RequestLaunchTemplateData{}})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"describing a missing version", versions("1", "5"), "InvalidLaunchTemplateId.VersionNotFound"},
		{"the default version must exist", func(e env) error {
			_, err := e.c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(e.ltID), DefaultVersion: aws.String("3")})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"a template by ID or by name, not both", func(e env) error {
			_, err := e.c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(e.ltID), LaunchTemplateName: aws.String("tmpl")})
			return err
		}, "InvalidParameterCombination"},
		{"deleting a template needs its ID or name", func(e env) error {
			_, err := e.c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{})
			return err
		}, "MissingParameter"},
		{"deleting a missing template ID", func(e env) error {
			_, err := e.c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String(absentLT)})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"deleting a missing template name", func(e env) error {
			_, err := e.c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("nope")})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			c := start(t)
			e := env{c: c, vpc: defaultVPC(t, c), absent: "sg-0123456789abcdef0"}
			e.sg, e.ref = createGroup(t, c, "g"), createGroup(t, c, "ref")
			must(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(e.sg), IpPermissions: []types.IpPermission{
				tcp(22, "10.0.0.0/8"),
				{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(e.ref)}}},
			}}))(t)
			e.def = aws.ToString(must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupNames: []string{"default"}}))(t).SecurityGroups[0].GroupId)
			e.ltID = aws.ToString(must(c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("tmpl"), LaunchTemplateData: templateData(e.sg)}))(t).LaunchTemplate.LaunchTemplateId)

			err := tc.call(e)
			if got := code(err); got != tc.code || status(err) != http.StatusBadRequest {
				t.Errorf("err = %v (code %q, status %d), want %s with 400", err, got, status(err), tc.code)
			}
		})
	}
}

func TestDescribeSecurityGroupsPages(t *testing.T) {
	c := start(t)
	for i := range 11 {
		createGroup(t, c, fmt.Sprintf("g%02d", i))
	}
	p := ec2.NewDescribeSecurityGroupsPaginator(c, &ec2.DescribeSecurityGroupsInput{MaxResults: aws.Int32(5)})
	var sizes []int
	seen := map[string]bool{}
	for p.HasMorePages() {
		out := must(p.NextPage(ctx))(t)
		sizes = append(sizes, len(out.SecurityGroups))
		for _, g := range out.SecurityGroups {
			seen[aws.ToString(g.GroupId)] = true
		}
	}
	// Eleven groups and the default one: 12 in pages of 5.
	if fmt.Sprint(sizes) != "[5 5 2]" || len(seen) != 12 {
		t.Errorf("page sizes %v, %d distinct groups; want [5 5 2] and 12", sizes, len(seen))
	}
}
