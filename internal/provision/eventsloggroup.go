package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// eventsLogGroup is the log group Batch's job state change events are
// recorded in, one event a stream, as EventBridge delivers them.
type eventsLogGroup struct {
	done
	p             *Provisioner
	retentionDays int32

	group *logstypes.LogGroup // what plan or find found, nil for none
}

func (g *eventsLogGroup) kind() string { return "log group" }
func (g *eventsLogGroup) name() string { return g.p.names.EventsLogGroup }

// describe returns the group and whether it is the stack's, or nil.
func (g *eventsLogGroup) describe(ctx context.Context) (*logstypes.LogGroup, bool, error) {
	p, name := g.p, g.p.names.EventsLogGroup
	var lg *logstypes.LogGroup
	pages := cloudwatchlogs.NewDescribeLogGroupsPaginator(p.eventLogs, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: &name})
	for pages.HasMorePages() && lg == nil {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("describe log groups: %w", err)
		}
		for i := range page.LogGroups {
			if aws.ToString(page.LogGroups[i].LogGroupName) == name {
				lg = &page.LogGroups[i]
				break
			}
		}
	}
	if lg == nil {
		return nil, false, nil
	}
	arn := logGroupARN(lg)
	tags, err := p.eventLogs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil {
		return nil, false, fmt.Errorf("list log group tags: %w", err)
	}
	return lg, p.owned(tags.Tags), nil
}

func (g *eventsLogGroup) plan(ctx context.Context) (Result, error) {
	lg, ours, err := g.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case lg == nil:
		g.group = nil
		return Result{Action: Create}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"log group", g.name(), g.p.names.Stack}
	}
	g.group = lg
	res := Result{Action: Unchanged, ARN: logGroupARN(lg)}
	if aws.ToInt32(lg.RetentionInDays) != g.retentionDays {
		res.Action, res.Detail = Update, fmt.Sprintf("retention %d days", g.retentionDays)
	}
	return res, nil
}

func (g *eventsLogGroup) apply(ctx context.Context) (Result, error) {
	p, name, days := g.p, g.name(), g.retentionDays
	if g.group == nil {
		if _, err := p.eventLogs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: &name, Tags: p.stackTags()}); err != nil {
			return Result{}, fmt.Errorf("create log group: %w", err)
		}
	}
	if _, err := p.eventLogs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: &name, RetentionInDays: &days}); err != nil {
		return Result{}, fmt.Errorf("set retention: %w", err)
	}
	action := Update
	if g.group == nil {
		action = Create
	}
	lg, _, err := g.describe(ctx)
	if err != nil || lg == nil {
		return Result{Action: action}, err
	}
	return Result{Action: action, ARN: logGroupARN(lg)}, nil
}

func (g *eventsLogGroup) find(ctx context.Context) (Result, error) {
	lg, ours, err := g.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case lg == nil:
		return Result{Action: Absent}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"log group", g.name(), g.p.names.Stack}
	}
	g.group = lg
	return Result{Action: Delete, ARN: logGroupARN(lg)}, nil
}

func (g *eventsLogGroup) delete(ctx context.Context) (Result, error) {
	if _, err := g.p.eventLogs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: g.group.LogGroupName}); err != nil && !isCode(err, "ResourceNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return g.out, nil
}
