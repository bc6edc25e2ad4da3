package xray_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
)

func newRule(name string) *types.SamplingRule {
	return &types.SamplingRule{
		RuleName: aws.String(name), ResourceARN: aws.String("*"), Priority: aws.Int32(100),
		FixedRate: 1, ReservoirSize: 5, ServiceName: aws.String("BatchJob"), ServiceType: aws.String("*"),
		Host: aws.String("*"), HTTPMethod: aws.String("*"), URLPath: aws.String("*"), Version: aws.Int32(1),
	}
}

func ruleNames(t *testing.T, c *xray.Client) []string {
	t.Helper()
	var names []string
	p := xray.NewGetSamplingRulesPaginator(c, &xray.GetSamplingRulesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("GetSamplingRules: %v", err)
		}
		for _, r := range out.SamplingRuleRecords {
			names = append(names, aws.ToString(r.SamplingRule.RuleName))
		}
	}
	return names
}

func TestSamplingRules(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	ctx := context.Background()
	if diff := cmp.Diff([]string{"Default"}, ruleNames(t, c)); diff != "" {
		t.Fatalf("rules at start (-want +got):\n%s", diff)
	}
	created, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{
		SamplingRule: newRule("batch-xray"),
		Tags:         []types.Tag{{Key: aws.String("batchxray:stack"), Value: aws.String("batch-xray")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.SamplingRuleRecord.SamplingRule.RuleARN)
	if want := "arn:aws:xray:us-east-1:000000000000:sampling-rule/batch-xray"; arn != want {
		t.Errorf("RuleARN = %s, want %s", arn, want)
	}
	if created.SamplingRuleRecord.CreatedAt == nil || !created.SamplingRuleRecord.CreatedAt.Equal(srv.Options().Clock.Now()) {
		t.Errorf("CreatedAt = %v, want the clock's now", created.SamplingRuleRecord.CreatedAt)
	}
	if diff := cmp.Diff([]string{"Default", "batch-xray"}, ruleNames(t, c)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}

	up, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleARN: aws.String(arn), FixedRate: aws.Float64(0.5), URLPath: aws.String("/jobs/*")}})
	if err != nil {
		t.Fatal(err)
	}
	if r := up.SamplingRuleRecord.SamplingRule; r.FixedRate != 0.5 || aws.ToString(r.URLPath) != "/jobs/*" || r.ReservoirSize != 5 {
		t.Errorf("updated rule = %+v", r)
	}
	if _, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
		RuleName: aws.String("Default"), FixedRate: aws.Float64(0.1), ReservoirSize: aws.Int32(2)}}); err != nil {
		t.Errorf("the Default rule's rate and reservoir can change: %v", err)
	}

	tags, err := c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "batchxray:stack" {
		t.Fatalf("ListTagsForResource = %+v, %v", tags, err)
	}
	if _, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &xray.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"batchxray:stack"}}); err != nil {
		t.Fatal(err)
	}
	tags, _ = c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "k" {
		t.Errorf("tags after tag and untag = %+v, want only k", tags.Tags)
	}

	targets, err := c.GetSamplingTargets(ctx, &xray.GetSamplingTargetsInput{SamplingStatisticsDocuments: []types.SamplingStatisticsDocument{
		{RuleName: aws.String("batch-xray"), ClientID: aws.String("0123456789abcdef01234567"), Timestamp: aws.Time(srv.Options().Clock.Now()), RequestCount: 10, SampledCount: 5},
		{RuleName: aws.String("nosuch"), ClientID: aws.String("0123456789abcdef01234567"), Timestamp: aws.Time(srv.Options().Clock.Now())},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(targets.SamplingTargetDocuments) != 1 {
		t.Fatalf("targets = %+v", targets.SamplingTargetDocuments)
	}
	d := targets.SamplingTargetDocuments[0]
	if d.FixedRate != 0.5 || aws.ToInt32(d.ReservoirQuota) != 5 || !d.ReservoirQuotaTTL.After(srv.Options().Clock.Now()) || aws.ToInt32(d.Interval) != 10 {
		t.Errorf("target = %+v, want rate 0.5, quota 5, a TTL ahead, interval 10", d)
	}
	if len(targets.UnprocessedStatistics) != 1 || aws.ToString(targets.UnprocessedStatistics[0].RuleName) != "nosuch" {
		t.Errorf("unprocessed = %+v, want nosuch", targets.UnprocessedStatistics)
	}

	deleted, err := c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: aws.String("batch-xray")})
	if err != nil || aws.ToString(deleted.SamplingRuleRecord.SamplingRule.RuleName) != "batch-xray" {
		t.Fatalf("DeleteSamplingRule = %+v, %v", deleted, err)
	}
	if diff := cmp.Diff([]string{"Default"}, ruleNames(t, c)); diff != "" {
		t.Errorf("rules after delete (-want +got):\n%s", diff)
	}
}

// TestSamplingRuleRules breaks each AWS rule the stand-in keeps and expects
// AWS's error code.
func TestSamplingRuleRules(t *testing.T) {
	_, c := start(t, localaws.Options{})
	ctx := context.Background()
	if _, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: newRule("exists")}); err != nil {
		t.Fatal(err)
	}
	withRule := func(f func(r *types.SamplingRule)) *xray.CreateSamplingRuleInput {
		r := newRule("fresh")
		f(r)
		return &xray.CreateSamplingRuleInput{SamplingRule: r}
	}
	tooManyTags := make([]types.Tag, 51)
	for i := range tooManyTags {
		tooManyTags[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	tests := []struct {
		rule string
		call func() error
		code string
	}{
		{"a rule name is unique", func() error {
			_, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: newRule("exists")})
			return err
		}, "InvalidRequestException"},
		{"a rule name is at most 32 characters", func() error {
			_, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: newRule("a-name-that-is-far-too-long-to-be-a-rule")})
			return err
		}, "InvalidRequestException"},
		{"priority is 1 to 9999", func() error {
			_, err := c.CreateSamplingRule(ctx, withRule(func(r *types.SamplingRule) { r.Priority = aws.Int32(10000) }))
			return err
		}, "InvalidRequestException"},
		{"fixed rate is 0 to 1", func() error {
			_, err := c.CreateSamplingRule(ctx, withRule(func(r *types.SamplingRule) { r.FixedRate = 1.5 }))
			return err
		}, "InvalidRequestException"},
		{"version is 1", func() error {
			_, err := c.CreateSamplingRule(ctx, withRule(func(r *types.SamplingRule) { r.Version = aws.Int32(2) }))
			return err
		}, "InvalidRequestException"},
		{"at most 50 tags", func() error {
			_, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: newRule("tagged"), Tags: tooManyTags})
			return err
		}, "TooManyTagsException"},
		{"the Default rule cannot be deleted", func() error {
			_, err := c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: aws.String("Default")})
			return err
		}, "InvalidRequestException"},
		{"only the Default rule's rate and reservoir change", func() error {
			_, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
				RuleName: aws.String("Default"), ServiceName: aws.String("x")}})
			return err
		}, "InvalidRequestException"},
		{"updating a missing rule", func() error {
			_, err := c.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &types.SamplingRuleUpdate{
				RuleName: aws.String("nosuch"), FixedRate: aws.Float64(1)}})
			return err
		}, "InvalidRequestException"},
		{"deleting a missing rule", func() error {
			_, err := c.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: aws.String("nosuch")})
			return err
		}, "InvalidRequestException"},
		{"tags need a resource that exists", func() error {
			_, err := c.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:xray:us-east-1:000000000000:sampling-rule/nosuch")})
			return err
		}, "ResourceNotFoundException"},
		{"tag keys may not start with aws:", func() error {
			_, err := c.TagResource(ctx, &xray.TagResourceInput{ResourceARN: aws.String("arn:aws:xray:us-east-1:000000000000:sampling-rule/exists"),
				Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
			return err
		}, "InvalidRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if code := errorCode(tt.call()); code != tt.code {
				t.Errorf("error code = %q, want %s", code, tt.code)
			}
		})
	}

	t.Run("at most 25 rules besides Default", func(t *testing.T) {
		for i := 2; i <= 25; i++ { // "exists" is the first
			if _, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: newRule(fmt.Sprintf("rule-%d", i))}); err != nil {
				t.Fatalf("rule %d: %v", i, err)
			}
		}
		_, err := c.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{SamplingRule: newRule("rule-26")})
		var rle *types.RuleLimitExceededException
		if !errors.As(err, &rle) {
			t.Fatalf("26th rule: %v, want RuleLimitExceededException", err)
		}
	})
}
