package ec2_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

var ctx = context.Background()

func start(t *testing.T) *ec2.Client {
	t.Helper()
	_, cfg := localawstest.Start(t, localaws.Options{})
	return ec2.NewFromConfig(cfg)
}

func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func filter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func defaultVPC(t *testing.T, c *ec2.Client) string {
	t.Helper()
	out := must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("isDefault", "true")}}))(t)
	if len(out.Vpcs) != 1 {
		t.Fatalf("default VPCs: %+v", out.Vpcs)
	}
	return aws.ToString(out.Vpcs[0].VpcId)
}

func createGroup(t *testing.T, c *ec2.Client, name string, tags ...types.Tag) string {
	t.Helper()
	in := &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("group " + name)}
	if len(tags) > 0 {
		in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: tags}}
	}
	return aws.ToString(must(c.CreateSecurityGroup(ctx, in))(t).GroupId)
}

func describeGroup(t *testing.T, c *ec2.Client, id string) types.SecurityGroup {
	t.Helper()
	out := must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}}))(t)
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("groups for %s: %+v", id, out.SecurityGroups)
	}
	return out.SecurityGroups[0]
}

func tag(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func tcp(port int32, cidrs ...string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c)})
	}
	return p
}

var allTraffic = types.IpPermission{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}

// permOpts compares permissions by value, ignoring the SDK's no-copy fields.
var permOpts = cmp.Options{
	cmpopts.IgnoreUnexported(types.IpPermission{}, types.IpRange{}, types.UserIdGroupPair{}, types.Ipv6Range{}, types.PrefixListId{}),
	cmpopts.EquateEmpty(),
}

func TestDefaultNetwork(t *testing.T) {
	c := start(t)
	vpcID := defaultVPC(t, c)
	vpcs := must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}}))(t).Vpcs
	if v := vpcs[0]; aws.ToString(v.CidrBlock) != "172.31.0.0/16" || !aws.ToBool(v.IsDefault) || v.State != types.VpcStateAvailable {
		t.Errorf("default VPC: %+v", v)
	}
	if !strings.HasPrefix(vpcID, "vpc-") || len(vpcID) != len("vpc-")+17 {
		t.Errorf("VPC ID %q is not vpc-<17 hex>", vpcID)
	}

	subnets := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("vpc-id", vpcID), filter("default-for-az", "true")}}))(t).Subnets
	var zones []string
	for _, s := range subnets {
		zones = append(zones, aws.ToString(s.AvailabilityZone))
		if !aws.ToBool(s.DefaultForAz) || !aws.ToBool(s.MapPublicIpOnLaunch) || aws.ToString(s.VpcId) != vpcID || !strings.HasPrefix(aws.ToString(s.SubnetId), "subnet-") {
			t.Errorf("subnet: %+v", s)
		}
	}
	if diff := cmp.Diff([]string{"us-east-1a", "us-east-1b", "us-east-1c"}, zones); diff != "" {
		t.Errorf("subnet zones (-want +got):\n%s", diff)
	}
	inB := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{filter("availability-zone", "us-east-1b")}}))(t).Subnets
	if len(inB) != 1 || aws.ToString(inB[0].CidrBlock) != "172.31.16.0/20" {
		t.Errorf("subnet in us-east-1b: %+v", inB)
	}
	byID := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{aws.ToString(subnets[2].SubnetId)}}))(t).Subnets
	if len(byID) != 1 || aws.ToString(byID[0].AvailabilityZone) != "us-east-1c" {
		t.Errorf("subnet by ID: %+v", byID)
	}
	none := must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{filter("isDefault", "false")}}))(t).Vpcs
	if len(none) != 0 {
		t.Errorf("non-default VPCs: %+v", none)
	}

	azs := must(c.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{}))(t).AvailabilityZones
	if len(azs) != 3 || aws.ToString(azs[0].ZoneId) != "use1-az1" || azs[0].State != types.AvailabilityZoneStateAvailable {
		t.Errorf("zones: %+v", azs)
	}
	attrs := must(c.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{types.AccountAttributeNameDefaultVpc}}))(t).AccountAttributes
	if len(attrs) != 1 || aws.ToString(attrs[0].AttributeValues[0].AttributeValue) != vpcID {
		t.Errorf("default-vpc attribute: %+v", attrs)
	}

	// The VPC's default group lets members talk to each other and go out.
	groups := must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("vpc-id", vpcID), filter("group-name", "default")}}))(t).SecurityGroups
	if len(groups) != 1 {
		t.Fatalf("default groups: %+v", groups)
	}
	def := groups[0]
	self := types.IpPermission{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: def.GroupId, UserId: aws.String("000000000000")}}}
	if diff := cmp.Diff([]types.IpPermission{self}, def.IpPermissions, permOpts); diff != "" {
		t.Errorf("default group ingress (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]types.IpPermission{allTraffic}, def.IpPermissionsEgress, permOpts); diff != "" {
		t.Errorf("default group egress (-want +got):\n%s", diff)
	}
}

// TestNoDefaultVPC: an account without a default VPC has no VPC, subnet
// or security group, says "none" for its default-vpc attribute, and a
// security group without a VpcId is refused as EC2 refuses it.
func TestNoDefaultVPC(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{NoDefaultVPC: true})
	c := ec2.NewFromConfig(cfg)
	if out := must(c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{}))(t); len(out.Vpcs) != 0 {
		t.Errorf("VPCs: %+v, want none", out.Vpcs)
	}
	if out := must(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{}))(t); len(out.Subnets) != 0 {
		t.Errorf("subnets: %+v, want none", out.Subnets)
	}
	if out := must(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{}))(t); len(out.SecurityGroups) != 0 {
		t.Errorf("security groups: %+v, want none", out.SecurityGroups)
	}
	attrs := must(c.DescribeAccountAttributes(ctx, &ec2.DescribeAccountAttributesInput{AttributeNames: []types.AccountAttributeName{types.AccountAttributeNameDefaultVpc}}))(t)
	if len(attrs.AccountAttributes) != 1 || len(attrs.AccountAttributes[0].AttributeValues) != 1 || aws.ToString(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue) != "none" {
		t.Errorf("default-vpc attribute: %+v, want none", attrs.AccountAttributes)
	}
	_, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("g"), Description: aws.String("d")})
	if code(err) != "VPCIdNotSpecified" || status(err) != http.StatusBadRequest {
		t.Errorf("CreateSecurityGroup without VpcId: %v, want 400 VPCIdNotSpecified", err)
	}
}

func TestSecurityGroupLifecycle(t *testing.T) {
	c := start(t)
	vpcID := defaultVPC(t, c)
	id := createGroup(t, c, "batch-xray", tag("batchxray:stack", "batch-xray"))
	other := createGroup(t, c, "other")
	if !strings.HasPrefix(id, "sg-") || len(id) != len("sg-")+17 {
		t.Errorf("group ID %q is not sg-<17 hex>", id)
	}

	g := describeGroup(t, c, id)
	if aws.ToString(g.GroupName) != "batch-xray" || aws.ToString(g.VpcId) != vpcID || aws.ToString(g.Description) != "group batch-xray" ||
		aws.ToString(g.SecurityGroupArn) != "arn:aws:ec2:us-east-1:000000000000:security-group/"+id {
		t.Errorf("group: %+v", g)
	}
	if len(g.IpPermissions) != 0 {
		t.Errorf("a new group has ingress: %+v", g.IpPermissions)
	}
	if diff := cmp.Diff([]types.IpPermission{allTraffic}, g.IpPermissionsEgress, permOpts); diff != "" {
		t.Errorf("a new group's egress (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		in   ec2.DescribeSecurityGroupsInput
		want []string
	}{
		{"group-name and vpc-id", ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "batch-xray"), filter("vpc-id", vpcID)}}, []string{id}},
		{"tag:Key", ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("tag:batchxray:stack", "batch-xray")}}, []string{id}},
		{"tag-key", ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("tag-key", "batchxray:stack")}}, []string{id}},
		{"group-id", ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-id", other)}}, []string{other}},
		{"wildcard", ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "batch-*")}}, []string{id}},
		{"GroupNames", ec2.DescribeSecurityGroupsInput{GroupNames: []string{"other", "batch-xray"}}, []string{id, other}},
		{"GroupIds", ec2.DescribeSecurityGroupsInput{GroupIds: []string{other}}, []string{other}},
		{"no match", ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("tag:batchxray:stack", "nope")}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must(c.DescribeSecurityGroups(ctx, &tc.in))(t)
			var got []string
			for _, g := range out.SecurityGroups {
				got = append(got, aws.ToString(g.GroupId))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}

	// Rules: one per peer, described grouped by protocol and ports.
	auth := must(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{
		tcp(22, "10.0.0.0/8", "192.168.0.0/16"),
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other), Description: aws.String("from other")}}},
	}}))(t)
	if !aws.ToBool(auth.Return) || len(auth.SecurityGroupRules) != 3 || !strings.HasPrefix(aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId), "sgr-") {
		t.Errorf("authorize: %+v", auth)
	}
	wantIngress := []types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
		IpRanges:         []types.IpRange{{CidrIp: aws.String("10.0.0.0/8")}, {CidrIp: aws.String("192.168.0.0/16")}},
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other), UserId: aws.String("000000000000"), Description: aws.String("from other")}},
	}}
	if diff := cmp.Diff(wantIngress, describeGroup(t, c, id).IpPermissions, permOpts); diff != "" {
		t.Errorf("ingress (-want +got):\n%s", diff)
	}

	must(c.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{tcp(443, "0.0.0.0/0")}}))(t)
	must(c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{allTraffic}}))(t)
	if diff := cmp.Diff([]types.IpPermission{tcp(443, "0.0.0.0/0")}, describeGroup(t, c, id).IpPermissionsEgress, permOpts); diff != "" {
		t.Errorf("egress (-want +got):\n%s", diff)
	}
	rev := must(c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{tcp(22, "192.168.0.0/16")}}))(t)
	if !aws.ToBool(rev.Return) || len(rev.RevokedSecurityGroupRules) != 1 {
		t.Errorf("revoke: %+v", rev)
	}
	wantIngress[0].IpRanges = wantIngress[0].IpRanges[:1]
	if diff := cmp.Diff(wantIngress, describeGroup(t, c, id).IpPermissions, permOpts); diff != "" {
		t.Errorf("ingress after revoke (-want +got):\n%s", diff)
	}

	// "other" is referenced by a rule of "batch-xray": it goes second.
	if _, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(other)}); code(err) != "DependencyViolation" {
		t.Errorf("delete a referenced group: %v, want DependencyViolation", err)
	}
	del := must(c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)}))(t)
	if !aws.ToBool(del.Return) || aws.ToString(del.GroupId) != id {
		t.Errorf("delete: %+v", del)
	}
	must(c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupName: aws.String("other")}))(t)
	if _, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}}); code(err) != "InvalidGroup.NotFound" {
		t.Errorf("describe a deleted group: %v, want InvalidGroup.NotFound", err)
	}
	tags := must(c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{filter("resource-id", id)}}))(t)
	if len(tags.Tags) != 0 {
		t.Errorf("a deleted group's tags remain: %+v", tags.Tags)
	}
}

func TestTags(t *testing.T) {
	c := start(t)
	vpcID := defaultVPC(t, c)
	sg := createGroup(t, c, "g")
	must(c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{sg, vpcID}, Tags: []types.Tag{tag("a", "1"), tag("b", "2")}}))(t)

	describe := func(filters ...types.Filter) []string {
		t.Helper()
		out := must(c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: filters}))(t)
		var got []string
		for _, d := range out.Tags {
			got = append(got, string(d.ResourceType)+" "+aws.ToString(d.ResourceId)+" "+aws.ToString(d.Key)+"="+aws.ToString(d.Value))
		}
		return got
	}
	for _, tc := range []struct {
		name    string
		filters []types.Filter
		want    []string
	}{
		{"resource-id", []types.Filter{filter("resource-id", sg)}, []string{"security-group " + sg + " a=1", "security-group " + sg + " b=2"}},
		{"resource-type", []types.Filter{filter("resource-type", "vpc")}, []string{"vpc " + vpcID + " a=1", "vpc " + vpcID + " b=2"}},
		{"key", []types.Filter{filter("key", "b"), filter("resource-type", "security-group")}, []string{"security-group " + sg + " b=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, describe(tc.filters...)); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}

	// A Tag with a Value deletes only on a match; one without deletes the key.
	must(c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{sg}, Tags: []types.Tag{tag("a", "wrong"), {Key: aws.String("b")}}}))(t)
	if diff := cmp.Diff([]string{"security-group " + sg + " a=1"}, describe(filter("resource-id", sg))); diff != "" {
		t.Errorf("after DeleteTags (-want +got):\n%s", diff)
	}
	g := describeGroup(t, c, sg)
	if len(g.Tags) != 1 || aws.ToString(g.Tags[0].Key) != "a" {
		t.Errorf("group tags: %+v", g.Tags)
	}
}

var userData = base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho hi\n"))

func templateData(sg string) *types.RequestLaunchTemplateData {
	return &types.RequestLaunchTemplateData{
		UserData: aws.String(userData),
		MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens: types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(2), HttpEndpoint: types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
		},
		SecurityGroupIds:   []string{sg},
		IamInstanceProfile: &types.LaunchTemplateIamInstanceProfileSpecificationRequest{Name: aws.String("batch-xray-instance")},
		BlockDeviceMappings: []types.LaunchTemplateBlockDeviceMappingRequest{{
			DeviceName: aws.String("/dev/xvda"),
			Ebs:        &types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(30), VolumeType: types.VolumeTypeGp3, Encrypted: aws.Bool(true)},
		}},
		TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{tag("batchxray:stack", "s")}}},
	}
}

func TestLaunchTemplates(t *testing.T) {
	c := start(t)
	sg := createGroup(t, c, "g")
	created := must(c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("batch-xray"), VersionDescription: aws.String("first"), LaunchTemplateData: templateData(sg),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: []types.Tag{tag("batchxray:stack", "s")}}},
	}))(t).LaunchTemplate
	id := aws.ToString(created.LaunchTemplateId)
	if !strings.HasPrefix(id, "lt-") || len(id) != len("lt-")+17 || aws.ToInt64(created.DefaultVersionNumber) != 1 || aws.ToInt64(created.LatestVersionNumber) != 1 ||
		created.CreateTime == nil || len(created.Tags) != 1 {
		t.Errorf("created: %+v", created)
	}

	for _, tc := range []struct {
		name string
		in   ec2.DescribeLaunchTemplatesInput
	}{
		{"by name", ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"batch-xray"}}},
		{"by id", ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{id}}},
		{"by tag", ec2.DescribeLaunchTemplatesInput{Filters: []types.Filter{filter("tag:batchxray:stack", "s")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := must(c.DescribeLaunchTemplates(ctx, &tc.in))(t).LaunchTemplates
			if len(out) != 1 || aws.ToString(out[0].LaunchTemplateId) != id {
				t.Errorf("templates: %+v", out)
			}
		})
	}

	// Version 2 from version 1 changes only the user data.
	newData := base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho two\n"))
	v2 := must(c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateName: aws.String("batch-xray"), SourceVersion: aws.String("1"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{UserData: aws.String(newData)},
	}))(t).LaunchTemplateVersion
	if aws.ToInt64(v2.VersionNumber) != 2 || aws.ToBool(v2.DefaultVersion) || aws.ToString(v2.LaunchTemplateData.UserData) != newData {
		t.Errorf("version 2: %+v", v2)
	}

	versions := func(vs ...string) []types.LaunchTemplateVersion {
		t.Helper()
		return must(c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: vs}))(t).LaunchTemplateVersions
	}
	all := versions()
	if len(all) != 2 || aws.ToInt64(all[0].VersionNumber) != 2 || aws.ToInt64(all[1].VersionNumber) != 1 {
		t.Fatalf("all versions, newest first: %+v", all)
	}
	d := all[1].LaunchTemplateData
	if aws.ToString(d.UserData) != userData || d.MetadataOptions.HttpTokens != types.LaunchTemplateHttpTokensStateRequired ||
		aws.ToInt32(d.MetadataOptions.HttpPutResponseHopLimit) != 2 || d.MetadataOptions.HttpEndpoint != types.LaunchTemplateInstanceMetadataEndpointStateEnabled ||
		!cmp.Equal([]string{sg}, d.SecurityGroupIds) || aws.ToString(d.IamInstanceProfile.Name) != "batch-xray-instance" ||
		aws.ToString(d.BlockDeviceMappings[0].DeviceName) != "/dev/xvda" || aws.ToInt32(d.BlockDeviceMappings[0].Ebs.VolumeSize) != 30 ||
		d.BlockDeviceMappings[0].Ebs.VolumeType != types.VolumeTypeGp3 || !aws.ToBool(d.BlockDeviceMappings[0].Ebs.Encrypted) ||
		d.TagSpecifications[0].ResourceType != types.ResourceTypeInstance || aws.ToString(d.TagSpecifications[0].Tags[0].Value) != "s" ||
		aws.ToString(all[1].VersionDescription) != "first" || !aws.ToBool(all[1].DefaultVersion) {
		t.Errorf("version 1 data: %+v", all[1])
	}
	kept := all[0].LaunchTemplateData
	if !cmp.Equal([]string{sg}, kept.SecurityGroupIds) || kept.MetadataOptions == nil || kept.MetadataOptions.HttpTokens != types.LaunchTemplateHttpTokensStateRequired {
		t.Errorf("version 2 did not keep version 1's data: %+v", kept)
	}
	if v := versions("$Latest"); len(v) != 1 || aws.ToInt64(v[0].VersionNumber) != 2 {
		t.Errorf("$Latest: %+v", v)
	}
	if v := versions("$Default"); len(v) != 1 || aws.ToInt64(v[0].VersionNumber) != 1 {
		t.Errorf("$Default: %+v", v)
	}

	mod := must(c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String("2")}))(t).LaunchTemplate
	if aws.ToInt64(mod.DefaultVersionNumber) != 2 || aws.ToInt64(mod.LatestVersionNumber) != 2 {
		t.Errorf("after ModifyLaunchTemplate: %+v", mod)
	}
	if v := versions("$Default"); len(v) != 1 || aws.ToInt64(v[0].VersionNumber) != 2 || !aws.ToBool(v[0].DefaultVersion) {
		t.Errorf("$Default after modify: %+v", v)
	}

	del := must(c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("batch-xray")}))(t).LaunchTemplate
	if aws.ToString(del.LaunchTemplateId) != id {
		t.Errorf("deleted: %+v", del)
	}
	if _, err := c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"batch-xray"}}); code(err) != "InvalidLaunchTemplateName.NotFoundException" {
		t.Errorf("describe a deleted template: %v", err)
	}
}

// TestDryRun: every mutating call with DryRun answers DryRunOperation (412)
// and changes nothing.
func TestDryRun(t *testing.T) {
	c := start(t)
	sg := createGroup(t, c, "g")
	must(c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("ltx"), LaunchTemplateData: templateData(sg)}))(t)
	dry := aws.Bool(true)
	for name, call := range map[string]func() error{
		"CreateSecurityGroup": func() error {
			_, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{DryRun: dry, GroupName: aws.String("x"), Description: aws.String("x")})
			return err
		},
		"DeleteSecurityGroup": func() error {
			_, err := c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{DryRun: dry, GroupId: aws.String(sg)})
			return err
		},
		"AuthorizeSecurityGroupIngress": func() error {
			_, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{DryRun: dry, GroupId: aws.String(sg), IpPermissions: []types.IpPermission{tcp(22, "10.0.0.0/8")}})
			return err
		},
		"RevokeSecurityGroupEgress": func() error {
			_, err := c.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{DryRun: dry, GroupId: aws.String(sg), IpPermissions: []types.IpPermission{allTraffic}})
			return err
		},
		"CreateTags": func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{DryRun: dry, Resources: []string{sg}, Tags: []types.Tag{tag("a", "b")}})
			return err
		},
		"CreateLaunchTemplate": func() error {
			_, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{DryRun: dry, LaunchTemplateName: aws.String("x"), LaunchTemplateData: templateData(sg)})
			return err
		},
		"DeleteLaunchTemplate": func() error {
			_, err := c.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{DryRun: dry, LaunchTemplateName: aws.String("ltx")})
			return err
		},
		"ModifyLaunchTemplate": func() error {
			_, err := c.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{DryRun: dry, LaunchTemplateName: aws.String("ltx"), DefaultVersion: aws.String("1")})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			if err := call(); code(err) != "DryRunOperation" || status(err) != http.StatusPreconditionFailed {
				t.Errorf("err = %v (status %d), want DryRunOperation with 412", err, status(err))
			}
		})
	}
	g := describeGroup(t, c, sg)
	if len(g.IpPermissions) != 0 || len(g.IpPermissionsEgress) != 1 || len(g.Tags) != 0 {
		t.Errorf("dry runs changed the group: %+v", g)
	}
	lts := must(c.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{}))(t).LaunchTemplates
	if len(lts) != 1 {
		t.Errorf("dry runs changed the templates: %+v", lts)
	}
}

func TestThrottling(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ThrottleRate: 1})
	_, err := ec2.NewFromConfig(cfg).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if code(err) != "RequestLimitExceeded" || status(err) != http.StatusServiceUnavailable {
		t.Errorf("err = %v (status %d), want RequestLimitExceeded with 503", err, status(err))
	}
}

func TestNotImplemented(t *testing.T) {
	c := start(t)
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if code(err) != "NotImplemented" || !strings.Contains(err.Error(), "DescribeInstances") {
		t.Errorf("err = %v, want NotImplemented naming the operation", err)
	}
}

// TestRevokeWhatDescribeSays revokes a group's ingress with the permissions
// DescribeSecurityGroups returned, as a caller emptying a group does: the
// user IDs and descriptions it echoes back must not get in the way.
func TestRevokeWhatDescribeSays(t *testing.T) {
	c := start(t)
	id, other := createGroup(t, c, "g"), createGroup(t, c, "other")
	must(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(81), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/8"), Description: aws.String("web")}}},
		{IpProtocol: aws.String("-1"), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(other)}}},
		{IpProtocol: aws.String("udp"), FromPort: aws.Int32(53), ToPort: aws.Int32(53), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0")}}},
	}}))(t)
	perms := describeGroup(t, c, id).IpPermissions
	if len(perms) != 3 {
		t.Fatalf("ingress: %+v", perms)
	}
	must(c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms}))(t)
	if left := describeGroup(t, c, id).IpPermissions; len(left) != 0 {
		t.Errorf("ingress left: %+v", left)
	}
	// Now nothing points at "other".
	must(c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(other)}))(t)
}

// TestOlderRuleForms: the top-level CidrIp/IpProtocol/ports form with a
// group name, and revoking by rule ID.
func TestOlderRuleForms(t *testing.T) {
	c := start(t)
	id := createGroup(t, c, "g")
	auth := must(c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupName: aws.String("g"), CidrIp: aws.String("10.1.0.0/16"), IpProtocol: aws.String("TCP"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8080),
	}))(t)
	if diff := cmp.Diff([]types.IpPermission{tcp(8080, "10.1.0.0/16")}, describeGroup(t, c, id).IpPermissions, permOpts); diff != "" {
		t.Errorf("ingress (-want +got):\n%s", diff)
	}
	must(c.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), SecurityGroupRuleIds: []string{aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId)}}))(t)
	if left := describeGroup(t, c, id).IpPermissions; len(left) != 0 {
		t.Errorf("ingress left: %+v", left)
	}
}

// TestLatestAcrossTemplates: without a template, DescribeLaunchTemplateVersions
// answers $Latest of every template.
func TestLatestAcrossTemplates(t *testing.T) {
	c := start(t)
	for _, name := range []string{"one", "two"} {
		must(c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String("ami-1")}}))(t)
	}
	must(c.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("two"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String("ami-2")}}))(t)
	out := must(c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}}))(t)
	var got []string
	for _, v := range out.LaunchTemplateVersions {
		got = append(got, fmt.Sprintf("%s v%d %s", aws.ToString(v.LaunchTemplateName), aws.ToInt64(v.VersionNumber), aws.ToString(v.LaunchTemplateData.ImageId)))
	}
	if diff := cmp.Diff([]string{"one v1 ami-1", "two v2 ami-2"}, got); diff != "" {
		t.Errorf("latest versions (-want +got):\n%s", diff)
	}
	if _, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"1"}}); code(err) != "InvalidParameterValue" {
		t.Errorf("a numbered version without a template: %v, want InvalidParameterValue", err)
	}
}
