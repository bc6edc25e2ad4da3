package iam_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	iamsvc "github.com/batchxray/batchxray/internal/localaws/iam"
)

// startService serves one IAM service on its own, so the test holds the
// service value the other services would call.
func startService(t *testing.T, clock clockwork.Clock, propagation time.Duration) (*iamsvc.Service, *iam.Client) {
	t.Helper()
	svc := iamsvc.New(awsproto.Env{Account: "123456789012", Region: "us-east-1", Clock: clock}, propagation)
	ts := httptest.NewServer(svc)
	t.Cleanup(ts.Close)
	c := iam.New(iam.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})
	return svc, c
}

func TestPropagation(t *testing.T) {
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(t0)
	svc, c := startService(t, clock, 10*time.Second)
	const (
		roleARN    = "arn:aws:iam::123456789012:role/bx/instance"
		profileARN = "arn:aws:iam::123456789012:instance-profile/bx/instance"
	)
	type seen struct{ RoleByName, RoleByARN, ProfileByName, ProfileByARN bool }
	look := func() seen {
		return seen{svc.RoleVisible("instance"), svc.RoleVisible(roleARN), svc.InstanceProfileVisible("instance"), svc.InstanceProfileVisible(profileARN)}
	}
	check := func(step string, want seen) {
		t.Helper()
		if got := look(); got != want {
			t.Errorf("%s: visible %+v, want %+v", step, got, want)
		}
	}

	check("nothing created", seen{})
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("instance"), Path: aws.String("/bx/"), AssumeRolePolicyDocument: aws.String(ec2Trust)}))(t)
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("instance"), Path: aws.String("/bx/")}))(t)
	check("just created", seen{})

	clock.Advance(9 * time.Second)
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("instance"), RoleName: aws.String("instance")}))(t)
	check("9s later, role just added", seen{})

	clock.Advance(time.Second)
	check("10s after creation, 1s after the role was added", seen{RoleByName: true, RoleByARN: true})

	clock.Advance(9 * time.Second)
	check("10s after the role was added", seen{true, true, true, true})

	// Swapping the role out and back starts the wait again.
	must(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("instance"), RoleName: aws.String("instance")}))(t)
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("instance"), RoleName: aws.String("instance")}))(t)
	check("role added again", seen{RoleByName: true, RoleByARN: true})

	for _, bad := range []string{
		"arn:aws:iam::123456789012:role/instance",                // wrong path
		"arn:aws:iam::999999999999:role/bx/instance",             // wrong account
		"arn:aws:iam::123456789012:instance-profile/bx/instance", // a profile, not a role
		"nosuch",
	} {
		if svc.RoleVisible(bad) {
			t.Errorf("RoleVisible(%q) = true, want false", bad)
		}
	}
	if svc.InstanceProfileVisible(roleARN) {
		t.Errorf("InstanceProfileVisible(role ARN) = true, want false")
	}
}

func TestNoPropagationDelay(t *testing.T) {
	ctx := context.Background()
	svc, c := startService(t, clockwork.NewFakeClockAt(t0), 0)
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2Trust)}))(t)
	must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("ip")}))(t)
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("ip"), RoleName: aws.String("r")}))(t)
	if !svc.RoleVisible("r") || !svc.InstanceProfileVisible("ip") {
		t.Errorf("with no delay, RoleVisible %v, InstanceProfileVisible %v; want both at once", svc.RoleVisible("r"), svc.InstanceProfileVisible("ip"))
	}
}
