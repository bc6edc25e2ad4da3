package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// logGroup is one of the stack's log groups: the one jobs write to, or the
// one Batch's job state change events are recorded in (one event a stream,
// as EventBridge delivers them). They differ only in name.
type logGroup struct {
	done
	p             *Provisioner
	groupName     string
	retentionDays int32

	group *logstypes.LogGroup // what plan or find found, nil for none
}

func (g *logGroup) kind() string { return "log group" }
func (g *logGroup) name() string { return g.groupName }

// describe returns the log group and whether it is the stack's, or nil.
func (g *logGroup) describe(ctx context.Context) (*logstypes.LogGroup, bool, error) {
	lg, err := g.p.findLogGroup(ctx, g.groupName)
	if err != nil || lg == nil {
		return nil, false, err
	}
	arn := logGroupARN(lg)
	tags, err := g.p.logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil {
		return nil, false, fmt.Errorf("list log group tags: %w", err)
	}
	return lg, g.p.owned(tags.Tags), nil
}

func (g *logGroup) plan(ctx context.Context) (Result, error) {
	lg, ours, err := g.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case lg == nil:
		g.group = nil
		return Result{Action: Create}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"log group", g.groupName, g.p.names.Stack}
	}
	g.group = lg
	res := Result{Action: Unchanged, ARN: logGroupARN(lg)}
	if aws.ToInt32(lg.RetentionInDays) != g.retentionDays {
		res.Action, res.Detail = Update, fmt.Sprintf("retention %d days", g.retentionDays)
	}
	return res, nil
}

func (g *logGroup) apply(ctx context.Context) (Result, error) {
	p, name, days := g.p, g.groupName, g.retentionDays
	if g.group == nil {
		if _, err := p.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name, Tags: p.stackTags()}); err != nil {
			return Result{}, fmt.Errorf("create log group: %w", err)
		}
	}
	if _, err := p.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &days}); err != nil {
		return Result{}, fmt.Errorf("set retention: %w", err)
	}
	if g.group != nil {
		return g.out, nil
	}
	lg, err := p.findLogGroup(ctx, name)
	if err != nil || lg == nil {
		return Result{Action: Create}, err
	}
	return Result{Action: Create, ARN: logGroupARN(lg)}, nil
}

func (g *logGroup) find(ctx context.Context) (Result, error) {
	lg, ours, err := g.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case lg == nil:
		return Result{Action: Absent}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"log group", g.groupName, g.p.names.Stack}
	}
	g.group = lg
	return Result{Action: Delete, ARN: logGroupARN(lg)}, nil
}

func (g *logGroup) delete(ctx context.Context) (Result, error) {
	if _, err := g.p.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: g.group.LogGroupName}); err != nil && !isCode(err, "ResourceNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return g.out, nil
}

// findLogGroup returns the named log group, or nil.
func (p *Provisioner) findLogGroup(ctx context.Context, name string) (*logstypes.LogGroup, error) {
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
