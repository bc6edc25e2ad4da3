package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// findLogGroup returns the stack's log group, or nil.
func (p *Provisioner) findLogGroup(ctx context.Context) (*logstypes.LogGroup, error) {
	name := p.names.LogGroup
	pages := cloudwatchlogs.NewDescribeLogGroupsPaginator(p.logs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &name})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe log groups: %w", err)
		}
		for _, g := range page.LogGroups {
			if aws.ToString(g.LogGroupName) == name {
				return &g, nil
			}
		}
	}
	return nil, nil
}

// logGroupARN is the group's ARN without DescribeLogGroups' trailing ":*",
// as the tagging calls take it.
func logGroupARN(g *logstypes.LogGroup) string {
	if a := aws.ToString(g.LogGroupArn); a != "" {
		return a
	}
	return strings.TrimSuffix(aws.ToString(g.Arn), ":*")
}

// ensureLogGroup creates or converges the log group jobs write to.
func (p *Provisioner) ensureLogGroup(ctx context.Context, dry bool, retentionDays int32) (Result, error) {
	name := p.names.LogGroup
	g, err := p.findLogGroup(ctx)
	if err != nil {
		return Result{}, err
	}
	if g == nil {
		if dry {
			return Result{Action: Create}, nil
		}
		if _, err := p.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name, Tags: p.stackTags()}); err != nil {
			return Result{}, fmt.Errorf("create log group: %w", err)
		}
		if _, err := p.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &retentionDays}); err != nil {
			return Result{}, fmt.Errorf("set retention: %w", err)
		}
		if g, err = p.findLogGroup(ctx); err != nil || g == nil {
			return Result{Action: Create}, err
		}
		return Result{Action: Create, ARN: logGroupARN(g)}, nil
	}
	arn := logGroupARN(g)
	tags, err := p.logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil {
		return Result{}, fmt.Errorf("list log group tags: %w", err)
	}
	if !p.owned(tags.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"log group", name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: arn}
	if aws.ToInt32(g.RetentionInDays) != retentionDays {
		res.Action, res.Detail = Update, fmt.Sprintf("retention %d days", retentionDays)
		if !dry {
			if _, err := p.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &retentionDays}); err != nil {
				return Result{}, fmt.Errorf("set retention: %w", err)
			}
		}
	}
	return res, nil
}
