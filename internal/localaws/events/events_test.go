package events_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

const (
	queueARN = "arn:aws:batch:us-east-1:000000000000:job-queue/demo-queue"
	groupARN = "arn:aws:logs:us-east-1:000000000000:log-group:/batchxray/demo/events"
	pattern  = `{"source":["aws.batch"],"detail-type":["Batch Job State Change"],"detail":{"jobQueue":["` + queueARN + `"]}}`
)

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestRulesOverTheWire(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	c := eventbridge.NewFromConfig(cfg)
	ctx := context.Background()

	out, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("demo-jobs"), EventPattern: aws.String(pattern),
		Tags: []types.Tag{{Key: aws.String("batchxray:stack"), Value: aws.String("demo")}}})
	if err != nil {
		t.Fatal(err)
	}
	ruleARN := aws.ToString(out.RuleArn)
	if ruleARN != "arn:aws:events:us-east-1:000000000000:rule/demo-jobs" {
		t.Errorf("rule ARN %s", ruleARN)
	}
	d, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("demo-jobs")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.EventPattern) != pattern || d.State != types.RuleStateEnabled || aws.ToString(d.EventBusName) != "default" {
		t.Errorf("DescribeRule = pattern %s, state %s, bus %s", aws.ToString(d.EventPattern), d.State, aws.ToString(d.EventBusName))
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("demo-jobs"), Targets: []types.Target{{Id: aws.String("events-log"), Arn: aws.String(groupARN)}}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("demo-jobs")})
	if err != nil || len(lt.Targets) != 1 || aws.ToString(lt.Targets[0].Arn) != groupARN {
		t.Fatalf("ListTargetsByRule = %+v, %v", lt, err)
	}
	tags, err := c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(ruleARN)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "demo" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}

	errs := []struct {
		name, want string
		call       func() error
	}{
		{"pattern not an object", "InvalidEventPatternException", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`["aws.batch"]`)})
			return err
		}},
		{"leaf not an array", "InvalidEventPatternException", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad"), EventPattern: aws.String(`{"source":"aws.batch"}`)})
			return err
		}},
		{"neither pattern nor schedule", "ValidationException", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("bad")})
			return err
		}},
		{"bad name", "ValidationException", func() error {
			_, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("no spaces"), EventPattern: aws.String(pattern)})
			return err
		}},
		{"describe missing", "ResourceNotFoundException", func() error {
			_, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("nope")})
			return err
		}},
		{"targets of missing", "ResourceNotFoundException", func() error {
			_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("nope"), Targets: []types.Target{{Id: aws.String("a"), Arn: aws.String(groupARN)}}})
			return err
		}},
		{"other bus", "ResourceNotFoundException", func() error {
			_, err := c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("demo-jobs"), EventBusName: aws.String("custom")})
			return err
		}},
		{"delete with targets", "ValidationException", func() error {
			_, err := c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("demo-jobs")})
			return err
		}},
		{"sixth target", "LimitExceededException", func() error {
			var ts []types.Target
			for _, id := range []string{"t1", "t2", "t3", "t4", "t5"} {
				ts = append(ts, types.Target{Id: aws.String(id), Arn: aws.String(groupARN)})
			}
			_, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("demo-jobs"), Targets: ts})
			return err
		}},
		{"tags of missing", "ResourceNotFoundException", func() error {
			_, err := c.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(ruleARN + "x")})
			return err
		}},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(tt.call()); got != tt.want {
				t.Errorf("error code %q, want %q", got, tt.want)
			}
		})
	}

	// Targets first, then the rule; deleting it again succeeds.
	if _, err := c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("demo-jobs"), Ids: []string{"events-log"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("demo-jobs")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String("demo-jobs")})
	if diff := cmp.Diff("ResourceNotFoundException", code(err)); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
}
