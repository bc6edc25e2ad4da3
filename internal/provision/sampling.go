package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	xraytypes "github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// The sampling rule keeps every job's trace at X-Ray's side too (the job
// also forces its own sampling).
const (
	samplingPriority = 100
	samplingRate     = 1.0
)

func (p *Provisioner) findSamplingRule(ctx context.Context) (*xraytypes.SamplingRule, error) {
	pages := xray.NewGetSamplingRulesPaginator(p.xray, &xray.GetSamplingRulesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("get sampling rules: %w", err)
		}
		for _, r := range page.SamplingRuleRecords {
			if r.SamplingRule != nil && aws.ToString(r.SamplingRule.RuleName) == p.names.SamplingRule {
				return r.SamplingRule, nil
			}
		}
	}
	return nil, nil
}

// ensureSamplingRule creates or converges the jobs' sampling rule.
func (p *Provisioner) ensureSamplingRule(ctx context.Context, dry bool) (Result, error) {
	name := p.names.SamplingRule
	r, err := p.findSamplingRule(ctx)
	if err != nil {
		return Result{}, err
	}
	if r == nil {
		if dry {
			return Result{Action: Create}, nil
		}
		out, err := p.xray.CreateSamplingRule(ctx, &xray.CreateSamplingRuleInput{
			SamplingRule: &xraytypes.SamplingRule{
				RuleName:      &name,
				Priority:      aws.Int32(samplingPriority),
				FixedRate:     samplingRate,
				ReservoirSize: 1,
				ServiceName:   aws.String(ServiceName),
				ServiceType:   aws.String("*"),
				Host:          aws.String("*"),
				HTTPMethod:    aws.String("*"),
				URLPath:       aws.String("*"),
				ResourceARN:   aws.String("*"),
				Version:       aws.Int32(1),
			},
			Tags: xrayTags(p.stackTags()),
		})
		if err != nil {
			return Result{}, fmt.Errorf("create sampling rule: %w", err)
		}
		return Result{Action: Create, ARN: aws.ToString(out.SamplingRuleRecord.SamplingRule.RuleARN)}, nil
	}
	tags, err := p.xray.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: r.RuleARN})
	if err != nil {
		return Result{}, fmt.Errorf("list sampling rule tags: %w", err)
	}
	if !p.owned(fromXRayTags(tags.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"X-Ray sampling rule", name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(r.RuleARN)}
	if r.FixedRate != samplingRate || aws.ToString(r.ServiceName) != ServiceName {
		res.Action, res.Detail = Update, "rate and service"
		if !dry {
			if _, err := p.xray.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &xraytypes.SamplingRuleUpdate{
				RuleName: &name, FixedRate: aws.Float64(samplingRate), ServiceName: aws.String(ServiceName),
			}}); err != nil {
				return Result{}, fmt.Errorf("update sampling rule: %w", err)
			}
		}
	}
	return res, nil
}

func xrayTags(m map[string]string) []xraytypes.Tag {
	var tags []xraytypes.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, xraytypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

func fromXRayTags(tags []xraytypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
