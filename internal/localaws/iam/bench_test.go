package iam_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// BenchmarkGetRole is one GetRole through the SDK over loopback HTTP: the
// stand-in's cost per IAM call as a test or `up` sees it.
func BenchmarkGetRole(b *testing.B) {
	_, cfg := localawstest.Start(b, localaws.Options{})
	c := iam.NewFromConfig(cfg)
	ctx := context.Background()
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(ec2Trust)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
