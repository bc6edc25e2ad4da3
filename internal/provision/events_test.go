package provision_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/provision"
)

// Up records the queue's job events: a tagged rule on the queue's ARN, whose
// one target is the events log group, which a resource policy lets
// EventBridge write; down removes targets, rule, policy and group.
func TestUpRecordsJobEvents(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	if _, err := s.provisioner().Up(ctx, s.spec, false); err != nil {
		t.Fatal(err)
	}
	eb, lg, bc := eventbridge.NewFromConfig(s.cfg), cloudwatchlogs.NewFromConfig(s.cfg), batch.NewFromConfig(s.cfg)
	q, err := bc.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{s.names.JobQueue}})
	if err != nil || len(q.JobQueues) != 1 {
		t.Fatalf("DescribeJobQueues: %v", err)
	}
	rule, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(s.names.EventsRule)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"detail":{"jobQueue":["` + aws.ToString(q.JobQueues[0].JobQueueArn) + `"]},"detail-type":["Batch Job State Change"],"source":["aws.batch"]}`
	if got := aws.ToString(rule.EventPattern); got != want {
		t.Errorf("pattern %s, want %s", got, want)
	}
	tags, err := eb.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: rule.Arn})
	if err != nil || !hasTag(tags.Tags, provision.TagKey, "test") {
		t.Errorf("rule tags %+v, %v: want the stack's", tags, err)
	}
	ts, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: rule.Name})
	if err != nil || len(ts.Targets) != 1 || !strings.HasSuffix(aws.ToString(ts.Targets[0].Arn), ":log-group:"+s.names.EventsLogGroup) {
		t.Errorf("targets %+v, %v: want the events group", ts, err)
	}
	ps, err := lg.DescribeResourcePolicies(ctx, &cloudwatchlogs.DescribeResourcePoliciesInput{})
	if err != nil || len(ps.ResourcePolicies) != 1 || !strings.Contains(aws.ToString(ps.ResourcePolicies[0].PolicyDocument), "events.amazonaws.com") {
		t.Errorf("resource policies %+v, %v", ps, err)
	}

	if _, err := s.provisioner().Down(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(s.names.EventsRule)})
	var nf *ebtypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("rule after down: %v, want ResourceNotFoundException", err)
	}
	ps, err = lg.DescribeResourcePolicies(ctx, &cloudwatchlogs.DescribeResourcePoliciesInput{})
	if err != nil || len(ps.ResourcePolicies) != 0 {
		t.Errorf("resource policies after down %+v, %v", ps, err)
	}
}

// A same-named rule without the stack's tag stops up.
func TestUpStopsAtARuleThatIsNotOurs(t *testing.T) {
	s := newStack(t, localaws.Options{})
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(s.cfg)
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(s.names.EventsRule), EventPattern: aws.String(`{"source":["x"]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := s.provisioner().Up(ctx, s.spec, true)
	var no *provision.NotOursError
	if !errors.As(err, &no) || no.Kind != "EventBridge rule" {
		t.Fatalf("plan = %v, want a NotOursError for the rule", err)
	}
}

func hasTag(tags []ebtypes.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}
