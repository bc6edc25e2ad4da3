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

// samplingRule is the jobs' X-Ray sampling rule.
type samplingRule struct {
	done
	p *Provisioner

	rule *xraytypes.SamplingRule // what plan or find found, nil for none
}

func (s *samplingRule) kind() string { return "X-Ray sampling rule" }
func (s *samplingRule) name() string { return s.p.names.SamplingRule }

// describe returns the rule and whether it is the stack's, or nil.
func (s *samplingRule) describe(ctx context.Context) (*xraytypes.SamplingRule, bool, error) {
	r, err := s.p.findSamplingRule(ctx)
	if err != nil || r == nil {
		return nil, false, err
	}
	tags, err := s.p.xray.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: r.RuleARN})
	if err != nil {
		return nil, false, fmt.Errorf("list sampling rule tags: %w", err)
	}
	return r, s.p.owned(fromXRayTags(tags.Tags)), nil
}

// unimplemented is the rule's Result on an endpoint without X-Ray sampling
// rules: the rule is optional, since the job forces its own sampling.
var unimplemented = Result{Action: Skipped, Detail: "the endpoint does not implement X-Ray sampling rules; jobs force their own sampling"}

func (s *samplingRule) plan(ctx context.Context) (Result, error) {
	r, ours, err := s.describe(ctx)
	switch {
	case NotImplemented(err):
		s.p.log.Debug("no X-Ray sampling rules here", "err", err)
		return unimplemented, nil
	case err != nil:
		return Result{}, err
	case r == nil:
		s.rule = nil
		return Result{Action: Create}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"X-Ray sampling rule", s.p.names.SamplingRule, s.p.names.Stack}
	}
	s.rule = r
	res := Result{Action: Unchanged, ARN: aws.ToString(r.RuleARN)}
	if r.FixedRate != samplingRate || aws.ToString(r.ServiceName) != ServiceName {
		res.Action, res.Detail = Update, "rate and service"
	}
	return res, nil
}

func (s *samplingRule) apply(ctx context.Context) (Result, error) {
	p, name := s.p, s.p.names.SamplingRule
	if s.rule != nil {
		if _, err := p.xray.UpdateSamplingRule(ctx, &xray.UpdateSamplingRuleInput{SamplingRuleUpdate: &xraytypes.SamplingRuleUpdate{
			RuleName: &name, FixedRate: aws.Float64(samplingRate), ServiceName: aws.String(ServiceName),
		}}); err != nil {
			return Result{}, fmt.Errorf("update sampling rule: %w", err)
		}
		return s.out, nil
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

func (s *samplingRule) find(ctx context.Context) (Result, error) {
	r, ours, err := s.describe(ctx)
	switch {
	case NotImplemented(err):
		// Nothing can have been made where there is no service.
		return Result{Action: Absent, Detail: unimplemented.Detail}, nil
	case err != nil:
		return Result{}, err
	case r == nil:
		return Result{Action: Absent}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"X-Ray sampling rule", s.p.names.SamplingRule, s.p.names.Stack}
	}
	s.rule = r
	return Result{Action: Delete, ARN: aws.ToString(r.RuleARN)}, nil
}

func (s *samplingRule) delete(ctx context.Context) (Result, error) {
	if _, err := s.p.xray.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: s.rule.RuleName}); err != nil && !isCode(err, "InvalidRequestException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return s.out, nil
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
