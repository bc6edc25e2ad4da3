package iam_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

const (
	ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	s3Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket/*"}]}`

	ec2RoleARN    = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
	xrayARN       = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
	ecsExecARN    = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	s3ReadOnlyARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
)

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func start(t *testing.T, opts localaws.Options) (*iam.Client, *localaws.Server) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clockwork.NewFakeClockAt(t0)
	}
	srv, cfg := localawstest.Start(t, opts)
	return iam.NewFromConfig(cfg), srv
}

// must fails the test on a setup call's error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func createRole(t *testing.T, c *iam.Client, name string) *iamtypes.Role {
	t.Helper()
	out := must(c.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(ec2Trust)}))(t)
	return out.Role
}

func createProfile(t *testing.T, c *iam.Client, name string) {
	t.Helper()
	must(c.CreateInstanceProfile(context.Background(), &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name)}))(t)
}

func decode(t *testing.T, s *string) string {
	t.Helper()
	d, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatalf("policy document %q is not URL-encoded: %v", aws.ToString(s), err)
	}
	return d
}

// apiError is the error's AWS code and HTTP status.
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode(), re.HTTPStatusCode()
}

func TestRoleLifecycle(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t, localaws.Options{Account: "123456789012"})

	created := must(c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("batch-xray-instance"),
		Path:                     aws.String("/batchxray/"),
		AssumeRolePolicyDocument: aws.String(ec2Trust),
		Description:              aws.String("the instance role"),
		MaxSessionDuration:       aws.Int32(7200),
		Tags:                     []iamtypes.Tag{{Key: aws.String("batchxray:stack"), Value: aws.String("batch-xray")}},
	}))(t).Role
	if id := aws.ToString(created.RoleId); !strings.HasPrefix(id, "AROA") || len(id) != 21 {
		t.Errorf("RoleId = %q, want AROA and 17 more characters", id)
	}
	want := iamtypes.Role{
		RoleName:           aws.String("batch-xray-instance"),
		Path:               aws.String("/batchxray/"),
		Arn:                aws.String("arn:aws:iam::123456789012:role/batchxray/batch-xray-instance"),
		RoleId:             created.RoleId,
		CreateDate:         aws.Time(t0),
		Description:        aws.String("the instance role"),
		MaxSessionDuration: aws.Int32(7200),
		Tags:               []iamtypes.Tag{{Key: aws.String("batchxray:stack"), Value: aws.String("batch-xray")}},
	}
	ignoreDoc := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".AssumeRolePolicyDocument" }, cmp.Ignore())
	opt := cmp.Options{ignoreDoc, cmp.AllowUnexported(iamtypes.Role{}, iamtypes.Tag{})}
	if diff := cmp.Diff(want, *created, opt...); diff != "" {
		t.Errorf("CreateRole (-want +got):\n%s", diff)
	}
	if got := decode(t, created.AssumeRolePolicyDocument); got != ec2Trust {
		t.Errorf("trust policy = %s, want %s", got, ec2Trust)
	}
	if strings.Contains(aws.ToString(created.AssumeRolePolicyDocument), "{") {
		t.Errorf("trust policy %s is not URL-encoded as IAM returns it", aws.ToString(created.AssumeRolePolicyDocument))
	}

	// Names ignore case when looking up, as in IAM.
	got := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("BATCH-XRAY-INSTANCE")}))(t).Role
	if diff := cmp.Diff(want, *got, opt...); diff != "" {
		t.Errorf("GetRole (-want +got):\n%s", diff)
	}

	listed := must(c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/batchxray/")}))(t)
	if len(listed.Roles) != 1 || aws.ToString(listed.Roles[0].RoleName) != "batch-xray-instance" || listed.IsTruncated {
		t.Errorf("ListRoles(/batchxray/) = %+v", listed)
	}
	if len(listed.Roles[0].Tags) != 0 {
		t.Errorf("ListRoles returned tags %v; IAM does not", listed.Roles[0].Tags)
	}
	if n := len(must(c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/other/")}))(t).Roles); n != 0 {
		t.Errorf("ListRoles(/other/) listed %d roles, want 0", n)
	}

	ecsTrust := strings.Replace(ec2Trust, "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", 1)
	must(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("batch-xray-instance"), PolicyDocument: aws.String(ecsTrust)}))(t)
	got = must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("batch-xray-instance")}))(t).Role
	if d := decode(t, got.AssumeRolePolicyDocument); d != ecsTrust {
		t.Errorf("after UpdateAssumeRolePolicy trust = %s", d)
	}

	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("batch-xray-instance")}))(t)
	_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("batch-xray-instance")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("GetRole after delete: %v, want NoSuchEntity", err)
	}
}

func TestRoleDefaults(t *testing.T) {
	c, _ := start(t, localaws.Options{})
	r := createRole(t, c, "plain")
	if aws.ToString(r.Path) != "/" || aws.ToInt32(r.MaxSessionDuration) != 3600 || r.Description != nil {
		t.Errorf("defaults: path %q, max session %d, description %v; want /, 3600, none", aws.ToString(r.Path), aws.ToInt32(r.MaxSessionDuration), r.Description)
	}
	if got := aws.ToString(r.Arn); got != "arn:aws:iam::000000000000:role/plain" {
		t.Errorf("Arn = %s", got)
	}
}

func tagMap(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func iamTags(kv ...string) []iamtypes.Tag {
	var out []iamtypes.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, iamtypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func TestRoleTags(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t, localaws.Options{})
	createRole(t, c, "tagged")
	must(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: iamTags("a", "1", "b", "2")}))(t)
	// A key is replaced whatever its case.
	must(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("tagged"), Tags: iamTags("A", "3", "c", "")}))(t)
	got := must(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("tagged")}))(t)
	if diff := cmp.Diff(map[string]string{"A": "3", "b": "2", "c": ""}, tagMap(got.Tags)); diff != "" {
		t.Errorf("after TagRole (-want +got):\n%s", diff)
	}
	must(c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("tagged"), TagKeys: []string{"a", "nosuch"}}))(t)
	got = must(c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("tagged")}))(t)
	if diff := cmp.Diff(map[string]string{"b": "2", "c": ""}, tagMap(got.Tags)); diff != "" {
		t.Errorf("after UntagRole (-want +got):\n%s", diff)
	}
}

func TestManagedPolicies(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t, localaws.Options{})
	for _, arn := range []string{ec2RoleARN, xrayARN, ecsExecARN, s3ReadOnlyARN} {
		t.Run(arn, func(t *testing.T) {
			p := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
			name := arn[strings.LastIndexByte(arn, '/')+1:]
			path := strings.TrimPrefix(arn[:strings.LastIndexByte(arn, '/')+1], "arn:aws:iam::aws:policy")
			if aws.ToString(p.Arn) != arn || aws.ToString(p.PolicyName) != name || aws.ToString(p.Path) != path || !p.IsAttachable ||
				!strings.HasPrefix(aws.ToString(p.PolicyId), "ANPA") || aws.ToString(p.DefaultVersionId) == "" || p.CreateDate == nil {
				t.Errorf("GetPolicy = %+v", p)
			}
		})
	}

	createRole(t, c, "instance")
	for _, arn := range []string{xrayARN, ec2RoleARN, xrayARN} { // twice: no error, no duplicate
		must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("instance"), PolicyArn: aws.String(arn)}))(t)
	}
	attached := must(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("instance")}))(t)
	want := []iamtypes.AttachedPolicy{
		{PolicyName: aws.String("AWSXRayDaemonWriteAccess"), PolicyArn: aws.String(xrayARN)},
		{PolicyName: aws.String("AmazonEC2ContainerServiceforEC2Role"), PolicyArn: aws.String(ec2RoleARN)},
	}
	if diff := cmp.Diff(want, attached.AttachedPolicies, cmp.AllowUnexported(iamtypes.AttachedPolicy{})); diff != "" {
		t.Errorf("ListAttachedRolePolicies (-want +got):\n%s", diff)
	}
	byPath := must(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("instance"), PathPrefix: aws.String("/service-role/")}))(t)
	if len(byPath.AttachedPolicies) != 1 || aws.ToString(byPath.AttachedPolicies[0].PolicyArn) != ec2RoleARN {
		t.Errorf("ListAttachedRolePolicies(/service-role/) = %+v", byPath.AttachedPolicies)
	}
	if n := aws.ToInt32(must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(xrayARN)}))(t).Policy.AttachmentCount); n != 1 {
		t.Errorf("AttachmentCount = %d, want 1", n)
	}

	must(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("instance"), PolicyArn: aws.String(xrayARN)}))(t)
	attached = must(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("instance")}))(t)
	if len(attached.AttachedPolicies) != 1 || aws.ToString(attached.AttachedPolicies[0].PolicyArn) != ec2RoleARN {
		t.Errorf("after detach: %+v", attached.AttachedPolicies)
	}
}

func TestInlinePolicies(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t, localaws.Options{})
	createRole(t, c, "job")
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("job"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(s3Policy)}))(t)
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("job"), PolicyName: aws.String("another"), PolicyDocument: aws.String(s3Policy)}))(t)

	got := must(c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("job"), PolicyName: aws.String("s3")}))(t)
	if aws.ToString(got.RoleName) != "job" || aws.ToString(got.PolicyName) != "s3" || decode(t, got.PolicyDocument) != s3Policy {
		t.Errorf("GetRolePolicy = %s %s %s", aws.ToString(got.RoleName), aws.ToString(got.PolicyName), aws.ToString(got.PolicyDocument))
	}
	if strings.Contains(aws.ToString(got.PolicyDocument), `"`) {
		t.Errorf("policy document %s is not URL-encoded as IAM returns it", aws.ToString(got.PolicyDocument))
	}

	// PutRolePolicy on an existing name replaces the document.
	replaced := strings.Replace(s3Policy, "s3:PutObject", "s3:DeleteObject", 1)
	must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("job"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(replaced)}))(t)
	got = must(c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("job"), PolicyName: aws.String("s3")}))(t)
	if decode(t, got.PolicyDocument) != replaced {
		t.Errorf("after replace: %s", decode(t, got.PolicyDocument))
	}

	names := must(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("job")}))(t)
	if diff := cmp.Diff([]string{"another", "s3"}, names.PolicyNames); diff != "" {
		t.Errorf("ListRolePolicies (-want +got):\n%s", diff)
	}
	must(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("job"), PolicyName: aws.String("another")}))(t)
	names = must(c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("job")}))(t)
	if diff := cmp.Diff([]string{"s3"}, names.PolicyNames); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
}

func TestInstanceProfiles(t *testing.T) {
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(t0)
	c, _ := start(t, localaws.Options{Account: "123456789012", Clock: clock})
	createRole(t, c, "instance")

	created := must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{
		InstanceProfileName: aws.String("instance"),
		Path:                aws.String("/batchxray/"),
		Tags:                iamTags("batchxray:stack", "batch-xray"),
	}))(t).InstanceProfile
	if aws.ToString(created.Arn) != "arn:aws:iam::123456789012:instance-profile/batchxray/instance" ||
		!strings.HasPrefix(aws.ToString(created.InstanceProfileId), "AIPA") || len(created.Roles) != 0 ||
		!aws.ToTime(created.CreateDate).Equal(t0) {
		t.Errorf("CreateInstanceProfile = %+v", created)
	}
	if diff := cmp.Diff(map[string]string{"batchxray:stack": "batch-xray"}, tagMap(created.Tags)); diff != "" {
		t.Errorf("tags on create (-want +got):\n%s", diff)
	}

	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("instance"), RoleName: aws.String("instance")}))(t)
	got := must(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("instance")}))(t).InstanceProfile
	if len(got.Roles) != 1 || aws.ToString(got.Roles[0].RoleName) != "instance" || decode(t, got.Roles[0].AssumeRolePolicyDocument) != ec2Trust {
		t.Errorf("GetInstanceProfile roles = %+v", got.Roles)
	}

	forRole := must(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("instance")}))(t)
	if len(forRole.InstanceProfiles) != 1 || aws.ToString(forRole.InstanceProfiles[0].InstanceProfileName) != "instance" {
		t.Errorf("ListInstanceProfilesForRole = %+v", forRole.InstanceProfiles)
	}
	createProfile(t, c, "other")
	all := must(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{}))(t)
	var names []string
	for _, ip := range all.InstanceProfiles {
		names = append(names, aws.ToString(ip.InstanceProfileName))
	}
	if diff := cmp.Diff([]string{"instance", "other"}, names); diff != "" {
		t.Errorf("ListInstanceProfiles (-want +got):\n%s", diff)
	}
	byPath := must(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/batchxray/")}))(t)
	if len(byPath.InstanceProfiles) != 1 {
		t.Errorf("ListInstanceProfiles(/batchxray/) = %d profiles, want 1", len(byPath.InstanceProfiles))
	}

	must(c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("instance"), Tags: iamTags("owner", "me")}))(t)
	must(c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("instance"), TagKeys: []string{"batchxray:stack"}}))(t)
	tags := must(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("instance")}))(t)
	if diff := cmp.Diff(map[string]string{"owner": "me"}, tagMap(tags.Tags)); diff != "" {
		t.Errorf("ListInstanceProfileTags (-want +got):\n%s", diff)
	}

	must(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("instance"), RoleName: aws.String("instance")}))(t)
	if n := len(must(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("instance")}))(t).InstanceProfiles); n != 0 {
		t.Errorf("ListInstanceProfilesForRole after remove: %d, want 0", n)
	}
	must(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("instance")}))(t)
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("instance")}))(t)
	_, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("instance")})
	if code, status := apiError(t, err); code != "NoSuchEntity" || status != 404 {
		t.Errorf("GetInstanceProfile after delete: %s %d", code, status)
	}
}

// TestPagination walks every List call with the SDK's own paginators, two
// items a page, so Marker and IsTruncated must round-trip.
func TestPagination(t *testing.T) {
	ctx := context.Background()
	c, _ := start(t, localaws.Options{})
	var wantRoles, wantProfiles, wantPolicies []string
	for i := range 5 {
		name := fmt.Sprintf("role-%d", i)
		createRole(t, c, name)
		createProfile(t, c, name)
		wantRoles, wantProfiles = append(wantRoles, name), append(wantProfiles, name)
		must(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("role-0"), PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(s3Policy)}))(t)
		wantPolicies = append(wantPolicies, fmt.Sprintf("p%d", i))
	}
	for _, arn := range []string{ec2RoleARN, xrayARN, ecsExecARN, s3ReadOnlyARN} {
		must(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("role-0"), PolicyArn: aws.String(arn)}))(t)
	}
	var tags []iamtypes.Tag
	for i := range 5 {
		tags = append(tags, iamTags(fmt.Sprintf("k%d", i), "v")...)
	}
	must(c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("role-0"), Tags: tags}))(t)
	must(c.TagInstanceProfile(ctx, &iam.TagInstanceProfileInput{InstanceProfileName: aws.String("role-0"), Tags: tags}))(t)
	two := aws.Int32(2)

	collect := func(t *testing.T, next func() ([]string, bool, error)) []string {
		t.Helper()
		var all []string
		for pages := 0; ; pages++ {
			items, more, err := next()
			if err != nil {
				t.Fatal(err)
			}
			if len(items) > 2 {
				t.Fatalf("page of %d items, MaxItems 2", len(items))
			}
			all = append(all, items...)
			if !more {
				return all
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
	}
	t.Run("ListRoles", func(t *testing.T) {
		p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: two})
		got := collect(t, func() ([]string, bool, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			var names []string
			for _, r := range out.Roles {
				names = append(names, aws.ToString(r.RoleName))
			}
			return names, p.HasMorePages(), nil
		})
		if diff := cmp.Diff(wantRoles, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("ListInstanceProfiles", func(t *testing.T) {
		p := iam.NewListInstanceProfilesPaginator(c, &iam.ListInstanceProfilesInput{MaxItems: two})
		got := collect(t, func() ([]string, bool, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			var names []string
			for _, ip := range out.InstanceProfiles {
				names = append(names, aws.ToString(ip.InstanceProfileName))
			}
			return names, p.HasMorePages(), nil
		})
		if diff := cmp.Diff(wantProfiles, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("ListRolePolicies", func(t *testing.T) {
		p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String("role-0"), MaxItems: two})
		got := collect(t, func() ([]string, bool, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			return out.PolicyNames, p.HasMorePages(), nil
		})
		if diff := cmp.Diff(wantPolicies, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("ListAttachedRolePolicies", func(t *testing.T) {
		p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("role-0"), MaxItems: two})
		got := collect(t, func() ([]string, bool, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			var arns []string
			for _, a := range out.AttachedPolicies {
				arns = append(arns, aws.ToString(a.PolicyArn))
			}
			return arns, p.HasMorePages(), nil
		})
		if len(got) != 4 {
			t.Errorf("listed %v, want the 4 attached", got)
		}
	})
	t.Run("ListRoleTags", func(t *testing.T) {
		p := iam.NewListRoleTagsPaginator(c, &iam.ListRoleTagsInput{RoleName: aws.String("role-0"), MaxItems: two})
		got := collect(t, func() ([]string, bool, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			var keys []string
			for _, tg := range out.Tags {
				keys = append(keys, aws.ToString(tg.Key))
			}
			return keys, p.HasMorePages(), nil
		})
		if diff := cmp.Diff([]string{"k0", "k1", "k2", "k3", "k4"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("ListInstanceProfileTags", func(t *testing.T) {
		p := iam.NewListInstanceProfileTagsPaginator(c, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("role-0"), MaxItems: two})
		got := collect(t, func() ([]string, bool, error) {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, false, err
			}
			var keys []string
			for _, tg := range out.Tags {
				keys = append(keys, aws.ToString(tg.Key))
			}
			return keys, p.HasMorePages(), nil
		})
		if diff := cmp.Diff([]string{"k0", "k1", "k2", "k3", "k4"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("ListInstanceProfilesForRole", func(t *testing.T) {
		must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("role-1"), RoleName: aws.String("role-1")}))(t)
		out := must(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("role-1"), MaxItems: aws.Int32(1)}))(t)
		if len(out.InstanceProfiles) != 1 || out.IsTruncated {
			t.Errorf("ListInstanceProfilesForRole = %d profiles, truncated %v; want 1, false", len(out.InstanceProfiles), out.IsTruncated)
		}
	})
}

func TestThrottling(t *testing.T) {
	c, _ := start(t, localaws.Options{ThrottleRate: 1})
	_, err := c.GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String("any")})
	if code, status := apiError(t, err); code != "Throttling" || status != 400 {
		t.Errorf("got %s %d, want Throttling 400", code, status)
	}
}

func TestUnimplementedOperation(t *testing.T) {
	c, _ := start(t, localaws.Options{})
	_, err := c.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String("someone")})
	code, status := apiError(t, err)
	if code != "NotImplemented" || status != 501 || !strings.Contains(err.Error(), "CreateUser") {
		t.Errorf("got %s %d (%v), want NotImplemented 501 naming CreateUser", code, status, err)
	}
}
