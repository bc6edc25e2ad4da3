package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// eventsTargetID is the rule's one target, the events log group.
const eventsTargetID = "batchxray-events-log-group"

// eventsRule is the EventBridge rule that sends Batch's job state change
// events for the stack's queue to the events log group.
type eventsRule struct {
	done
	p     *Provisioner
	group *logGroup

	found   *eventbridge.DescribeRuleOutput // what plan or find found
	targets []ebtypes.Target
}

func (r *eventsRule) kind() string { return "EventBridge rule" }
func (r *eventsRule) name() string { return r.p.names.EventsRule }

// pattern matches the state changes of the stack's queue's jobs.
func (r *eventsRule) pattern() string {
	b, _ := json.Marshal(map[string]any{
		"source":      []string{"aws.batch"},
		"detail-type": []string{"Batch Job State Change"},
		"detail":      map[string]any{"jobQueue": []string{r.queueARN()}},
	})
	return string(b)
}

// queueARN is the stack's queue's ARN, in the events group's partition,
// region and account: the rule does not wait for the queue, so that down
// can keep recording events until the compute environment is gone.
func (r *eventsRule) queueARN() string {
	parts := strings.SplitN(r.group.out.ARN, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return strings.Join([]string{"arn", parts[1], "batch", parts[3], parts[4], "job-queue/" + r.p.names.JobQueue}, ":")
}

// describe returns the rule and its targets and whether it is the stack's,
// or nil.
func (r *eventsRule) describe(ctx context.Context) (*eventbridge.DescribeRuleOutput, bool, error) {
	p := r.p
	out, err := p.events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(r.name())})
	if isCode(err, "ResourceNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("describe rule: %w", err)
	}
	tags, err := p.events.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: out.Arn})
	if err != nil {
		return nil, false, fmt.Errorf("list rule tags: %w", err)
	}
	m := map[string]string{}
	for _, t := range tags.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	if !p.owned(m) {
		return out, false, nil
	}
	ts, err := p.events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.name())})
	if err != nil {
		return nil, false, fmt.Errorf("list rule targets: %w", err)
	}
	r.targets = ts.Targets
	return out, true, nil
}

func (r *eventsRule) plan(ctx context.Context) (Result, error) {
	out, ours, err := r.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case out == nil:
		r.found = nil
		return Result{Action: Create}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"EventBridge rule", r.name(), r.p.names.Stack}
	}
	r.found = out
	res := Result{Action: Unchanged, ARN: aws.ToString(out.Arn)}
	var what []string
	if r.group.out.ARN != "" && !sameJSON(aws.ToString(out.EventPattern), r.pattern()) {
		what = append(what, "event pattern")
	}
	if out.State != ebtypes.RuleStateEnabled {
		what = append(what, "enable")
	}
	if len(r.targets) != 1 || aws.ToString(r.targets[0].Arn) != r.group.out.ARN {
		what = append(what, "target")
	}
	if len(what) > 0 {
		res.Action, res.Detail = Update, fmt.Sprint(what)
	}
	return res, nil
}

func (r *eventsRule) apply(ctx context.Context) (Result, error) {
	p := r.p
	in := &eventbridge.PutRuleInput{Name: aws.String(r.name()), EventPattern: aws.String(r.pattern()), State: ebtypes.RuleStateEnabled,
		Description: aws.String("Batch job state changes of " + p.names.JobQueue + ", for batchxray")}
	if r.found == nil {
		for k, v := range p.stackTags() {
			in.Tags = append(in.Tags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
	}
	out, err := p.events.PutRule(ctx, in)
	if err != nil {
		return Result{}, fmt.Errorf("put rule: %w", err)
	}
	// Any other target goes: the rule delivers to the events group alone.
	var stale []string
	for _, t := range r.targets {
		if aws.ToString(t.Id) != eventsTargetID {
			stale = append(stale, aws.ToString(t.Id))
		}
	}
	if len(stale) > 0 {
		if _, err := p.events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(r.name()), Ids: stale}); err != nil {
			return Result{}, fmt.Errorf("remove targets: %w", err)
		}
	}
	put, err := p.events.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(r.name()),
		Targets: []ebtypes.Target{{Id: aws.String(eventsTargetID), Arn: aws.String(r.group.out.ARN)}}})
	if err != nil {
		return Result{}, fmt.Errorf("put targets: %w", err)
	}
	if put.FailedEntryCount > 0 {
		return Result{}, fmt.Errorf("put targets: %s", aws.ToString(put.FailedEntries[0].ErrorMessage))
	}
	action := Update
	if r.found == nil {
		action = Create
	}
	return Result{Action: action, ARN: aws.ToString(out.RuleArn)}, nil
}

func (r *eventsRule) find(ctx context.Context) (Result, error) {
	out, ours, err := r.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case out == nil:
		return Result{Action: Absent}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"EventBridge rule", r.name(), r.p.names.Stack}
	}
	r.found = out
	return Result{Action: Delete, ARN: aws.ToString(out.Arn)}, nil
}

// delete removes the targets first: EventBridge keeps a rule that has any.
func (r *eventsRule) delete(ctx context.Context) (Result, error) {
	p := r.p
	if len(r.targets) > 0 {
		ids := make([]string, len(r.targets))
		for i, t := range r.targets {
			ids[i] = aws.ToString(t.Id)
		}
		if _, err := p.events.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(r.name()), Ids: ids}); err != nil && !isCode(err, "ResourceNotFoundException") {
			return Result{}, fmt.Errorf("remove targets: %w", err)
		}
	}
	if _, err := p.events.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(r.name())}); err != nil && !isCode(err, "ResourceNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return r.out, nil
}
