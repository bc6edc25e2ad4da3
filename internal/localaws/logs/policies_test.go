package logs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestResourcePolicies(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"` + arnPrefix + `/batchxray/demo/events:*"}]}`
	out := must(c.PutResourcePolicy(ctx, &cwl.PutResourcePolicyInput{PolicyName: aws.String("demo-events"), PolicyDocument: aws.String(doc)}))(t)
	if aws.ToString(out.ResourcePolicy.PolicyName) != "demo-events" || aws.ToString(out.ResourcePolicy.PolicyDocument) != doc {
		t.Errorf("PutResourcePolicy = %+v", out.ResourcePolicy)
	}
	list := must(c.DescribeResourcePolicies(ctx, &cwl.DescribeResourcePoliciesInput{}))(t)
	if len(list.ResourcePolicies) != 1 || aws.ToString(list.ResourcePolicies[0].PolicyName) != "demo-events" {
		t.Errorf("DescribeResourcePolicies = %+v", list.ResourcePolicies)
	}

	_, err := c.PutResourcePolicy(ctx, &cwl.PutResourcePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String("{not json")})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("malformed document: %v, want InvalidParameterException", err)
	}
	_, err = c.PutResourcePolicy(ctx, &cwl.PutResourcePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(strings.Repeat(" ", 5121) + doc)})
	if !errors.As(err, &ip) {
		t.Errorf("document over 5120 characters: %v, want InvalidParameterException", err)
	}
	for i := range 9 {
		must(c.PutResourcePolicy(ctx, &cwl.PutResourcePolicyInput{PolicyName: aws.String("p" + string(rune('0'+i))), PolicyDocument: aws.String(doc)}))(t)
	}
	_, err = c.PutResourcePolicy(ctx, &cwl.PutResourcePolicyInput{PolicyName: aws.String("eleventh"), PolicyDocument: aws.String(doc)})
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Errorf("eleventh policy: %v, want LimitExceededException", err)
	}

	must(c.DeleteResourcePolicy(ctx, &cwl.DeleteResourcePolicyInput{PolicyName: aws.String("demo-events")}))(t)
	_, err = c.DeleteResourcePolicy(ctx, &cwl.DeleteResourcePolicyInput{PolicyName: aws.String("demo-events")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("delete twice: %v, want ResourceNotFoundException", err)
	}
}
