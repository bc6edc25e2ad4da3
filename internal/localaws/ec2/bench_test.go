package ec2_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// BenchmarkDescribeSecurityGroups measures finding a stack's group by name
// and VPC among 100 groups, as `up` and `down` do, through the SDK.
func BenchmarkDescribeSecurityGroups(b *testing.B) {
	_, cfg := localawstest.Start(b, localaws.Options{})
	c := ec2.NewFromConfig(cfg)
	vpc, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(fmt.Sprintf("g%03d", i)), Description: aws.String("x")}); err != nil {
			b.Fatal(err)
		}
	}
	in := &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{filter("group-name", "g050"), filter("vpc-id", aws.ToString(vpc.Vpcs[0].VpcId))}}
	for b.Loop() {
		out, err := c.DescribeSecurityGroups(ctx, in)
		if err != nil || len(out.SecurityGroups) != 1 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
