package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	xraytypes "github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"

	"github.com/batchxray/batchxray/internal/provision"
)

// Check is one check's outcome; its JSON form is stable.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fix says what to do when the check failed.
	Fix string `json:"fix,omitempty"`
	// Warning is a passing check's caveat and what to do about it, such as
	// a tracing component nearing its end of support.
	Warning string `json:"warning,omitempty"`
	// Agent and Tracer name the stack's tracing agent (xray-daemon,
	// cloudwatch) and job tracer (xray, otel), on the tracing check only;
	// EndOfSupport is the date either of them stops being supported, if
	// one does.
	Agent        string `json:"agent,omitempty"`
	Tracer       string `json:"tracer,omitempty"`
	EndOfSupport string `json:"endOfSupport,omitempty"`
}

// Report is every check, in the order run.
type Report struct {
	Stack  string  `json:"stack"`
	Region string  `json:"region"`
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
}

// batchRole is the service-linked role Batch's compute environments use
// when they name no service role, as the stack's do.
const batchRole = "AWSServiceRoleForBatch"

// Run checks the account cfg reaches and the stack named stack. A failed
// check does not stop the others, except credentials, which they all need.
func Run(ctx context.Context, cfg aws.Config, stack string) Report {
	r := Report{Stack: stack, Region: cfg.Region}
	add := func(c Check) { r.Checks = append(r.Checks, c) }

	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		add(Check{Name: "credentials", Detail: oneLine(err), Fix: "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure`"})
		return r.done()
	}
	account := aws.ToString(id.Account)
	add(Check{Name: "credentials", OK: true, Detail: fmt.Sprintf("account %s as %s, region %s", account, aws.ToString(id.Arn), cfg.Region)})

	add(serviceLinkedRole(ctx, iam.NewFromConfig(cfg)))
	add(network(ctx, ec2.NewFromConfig(cfg)))
	for _, c := range stackChecks(ctx, cfg, stack, account) {
		add(c)
	}
	for _, c := range traceDestination(ctx, xray.NewFromConfig(cfg)) {
		add(c)
	}
	return r.done()
}

func (r Report) done() Report {
	r.OK = true
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
	return r
}

func serviceLinkedRole(ctx context.Context, c *iam.Client) Check {
	name := "Batch service-linked role"
	out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(batchRole)})
	switch {
	case code(err) == "NoSuchEntity":
		// Not a failure: Batch makes it with the first compute environment.
		return Check{Name: name, OK: true, Detail: batchRole + " does not exist yet: Batch creates it with the first compute environment (which needs iam:CreateServiceLinkedRole)"}
	case err != nil:
		return couldNot(name, err, "allow iam:GetRole on "+batchRole)
	}
	return Check{Name: name, OK: true, Detail: aws.ToString(out.Role.Arn)}
}

func network(ctx context.Context, c *ec2.Client) Check {
	name := "network"
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("isDefault"), Values: []string{"true"}}}})
	if err != nil {
		return couldNot(name, err, "allow ec2:DescribeVpcs")
	}
	if len(vpcs.Vpcs) == 0 {
		return Check{Name: name, Detail: "the region has no default VPC", Fix: "pass --subnets ID,ID (and --security-group ID) of your VPC to up, or create a default VPC with `aws ec2 create-default-vpc`"}
	}
	vpc := aws.ToString(vpcs.Vpcs[0].VpcId)
	sn, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{vpc}}, {Name: aws.String("default-for-az"), Values: []string{"true"}},
	}})
	if err != nil {
		return couldNot(name, err, "allow ec2:DescribeSubnets")
	}
	if len(sn.Subnets) == 0 {
		return Check{Name: name, Detail: "the default VPC " + vpc + " has no default subnets", Fix: "pass --subnets ID,ID of a VPC to up"}
	}
	return Check{Name: name, OK: true, Detail: fmt.Sprintf("default VPC %s with %d default subnets (up --subnets uses others)", vpc, len(sn.Subnets))}
}

// stackChecks are the stack's resources, then the states of its compute
// environment and queue.
func stackChecks(ctx context.Context, cfg aws.Config, stack, account string) []Check {
	name := "stack " + stack
	names, err := provision.NamesFor(stack, account, cfg.Region)
	if err != nil {
		return []Check{{Name: name, Detail: err.Error(), Fix: "use another --stack"}}
	}
	found, err := provision.New(cfg, names, provision.Options{}).Inspect(ctx)
	if err != nil {
		return []Check{couldNot(name, err, "see the error, or run `batchxray up --dry-run`")}
	}
	var missing, notOurs, optional []string
	var states []Check
	for _, f := range found {
		switch {
		case f.NotOurs:
			notOurs = append(notOurs, f.Kind+" "+f.Name)
		case !f.Present && f.Kind == "ECR repository":
			// up --image uses the user's image and makes no repository.
			optional = append(optional, "no "+f.Kind+" "+f.Name+" (none is needed with up --image)")
		case !f.Present:
			missing = append(missing, f.Kind+" "+f.Name)
		}
		if f.Present && f.Status != "" {
			c := Check{Name: f.Kind + " " + f.Name, OK: f.Status == "VALID" && f.State == "ENABLED", Detail: f.Status + ", " + f.State}
			if f.StatusReason != "" {
				c.Detail += ": " + f.StatusReason
			}
			if !c.OK {
				c.Fix = "run `batchxray up`, which waits for, enables or repairs it"
			}
			states = append(states, c)
		}
	}
	c := Check{Name: name, OK: len(missing) == 0 && len(notOurs) == 0, Detail: fmt.Sprintf("%d of %d resources", len(found)-len(missing)-len(notOurs)-len(optional), len(found))}
	if len(optional) > 0 {
		c.Detail += "; " + strings.Join(optional, ", ")
	}
	switch {
	case len(notOurs) > 0:
		c.Detail += "; not the stack's (no tag " + provision.TagKey + "=" + stack + "): " + strings.Join(notOurs, ", ")
		c.Fix = "remove or rename them, or use another --stack"
	case len(missing) > 0:
		c.Detail += "; missing: " + strings.Join(missing, ", ")
		c.Fix = "run `batchxray up`"
	}
	checks := append([]Check{c}, states...)
	return append(checks, tracing(ctx, tracingClients{Client: ec2.NewFromConfig(cfg), batch: batch.NewFromConfig(cfg)}, names)...)
}

// traceDestination is where X-Ray sends segments and, for CloudWatch Logs
// (Transaction Search), the share of traces it indexes.
func traceDestination(ctx context.Context, c *xray.Client) []Check {
	name := "X-Ray trace destination"
	out, err := c.GetTraceSegmentDestination(ctx, &xray.GetTraceSegmentDestinationInput{})
	if err != nil {
		return []Check{couldNot(name, err, "allow xray:GetTraceSegmentDestination")}
	}
	dest := string(out.Destination)
	checks := []Check{{Name: name, OK: true, Detail: dest + " (" + string(out.Status) + ")"}}
	if out.Destination != xraytypes.TraceSegmentDestinationCloudWatchLogs {
		return checks
	}
	name = "X-Ray indexing"
	rules, err := c.GetIndexingRules(ctx, &xray.GetIndexingRulesInput{})
	if err != nil {
		return append(checks, couldNot(name, err, "allow xray:GetIndexingRules"))
	}
	for _, r := range rules.IndexingRules {
		if p, ok := r.Rule.(*xraytypes.IndexingRuleValueMemberProbabilistic); ok && aws.ToString(r.Name) == "Default" {
			pct := aws.ToFloat64(p.Value.DesiredSamplingPercentage)
			return append(checks, Check{Name: name, OK: true, Detail: fmt.Sprintf("%g%% of traces indexed (Transaction Search); batchxray trace retrieves the others by ID", pct)})
		}
	}
	return append(checks, Check{Name: name, Detail: "no Default indexing rule", Fix: "turn Transaction Search's indexing on in the CloudWatch console"})
}

// couldNot is a check that could not be made; an endpoint that does not
// implement the call is named as such.
func couldNot(name string, err error, fix string) Check {
	var oe *smithy.OperationError
	if errors.As(err, &oe) && provision.NotImplemented(err) {
		return Check{Name: name, Detail: fmt.Sprintf("could not check (the endpoint does not implement %s %s)", oe.ServiceID, oe.OperationName), Fix: "check it against AWS itself"}
	}
	return Check{Name: name, Detail: "could not check: " + oneLine(err), Fix: fix}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
