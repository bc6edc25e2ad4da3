package provision

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// eventsPolicy is the CloudWatch Logs resource policy that lets EventBridge
// write the job events into their log group. Resource policies carry no
// tags: the policy is the stack's by its name, which holds the stack name,
// and by its document, which names only the stack's group.
type eventsPolicy struct {
	done
	p     *Provisioner
	group *logGroup

	found string // the document plan or find found, "" for none
}

func (e *eventsPolicy) kind() string { return "log resource policy" }
func (e *eventsPolicy) name() string { return e.p.names.EventsPolicy }

// document allows EventBridge (and the log delivery service it uses) to
// create streams in the events group and put events there.
func (e *eventsPolicy) document() string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "EventBridgeToLogs",
			"Effect":    "Allow",
			"Principal": map[string]any{"Service": []string{"events.amazonaws.com", "delivery.logs.amazonaws.com"}},
			"Action":    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource":  e.group.out.ARN + ":*",
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// describe returns the policy's document, or "".
func (e *eventsPolicy) describe(ctx context.Context) (string, error) {
	var token *string
	for {
		out, err := e.p.eventLogs.DescribeResourcePolicies(ctx, &cloudwatchlogs.DescribeResourcePoliciesInput{NextToken: token})
		if err != nil {
			return "", fmt.Errorf("describe resource policies: %w", err)
		}
		for _, rp := range out.ResourcePolicies {
			if aws.ToString(rp.PolicyName) == e.name() {
				return aws.ToString(rp.PolicyDocument), nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return "", nil
		}
		token = out.NextToken
	}
}

func (e *eventsPolicy) plan(ctx context.Context) (Result, error) {
	doc, err := e.describe(ctx)
	if err != nil {
		return Result{}, err
	}
	e.found = doc
	switch {
	case doc == "":
		return Result{Action: Create}, nil
	case e.group.out.ARN != "" && !sameJSON(doc, e.document()):
		return Result{Action: Update, Detail: "document"}, nil
	}
	return Result{Action: Unchanged}, nil
}

func (e *eventsPolicy) apply(ctx context.Context) (Result, error) {
	if _, err := e.p.eventLogs.PutResourcePolicy(ctx, &cloudwatchlogs.PutResourcePolicyInput{PolicyName: aws.String(e.name()), PolicyDocument: aws.String(e.document())}); err != nil {
		return Result{}, fmt.Errorf("put resource policy: %w", err)
	}
	if e.found == "" {
		return Result{Action: Create}, nil
	}
	return Result{Action: Update, Detail: "document"}, nil
}

func (e *eventsPolicy) find(ctx context.Context) (Result, error) {
	doc, err := e.describe(ctx)
	if err != nil || doc == "" {
		return Result{Action: Absent}, err
	}
	e.found = doc
	return Result{Action: Delete}, nil
}

func (e *eventsPolicy) delete(ctx context.Context) (Result, error) {
	if _, err := e.p.eventLogs.DeleteResourcePolicy(ctx, &cloudwatchlogs.DeleteResourcePolicyInput{PolicyName: aws.String(e.name())}); err != nil && !isCode(err, "ResourceNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return e.out, nil
}
