package doctor

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/userdata"
)

// EndOfSupport is the day AWS ends support for the X-Ray SDKs and daemon
// (AWS's "X-Ray SDK and daemon end of support timeline").
const EndOfSupport = "2027-02-25"

// tracingAPI is what the tracing check reads: the launch template's user
// data (the hosts' agent) and the job definition's environment (the job's
// tracer), as up records them.
type tracingAPI interface {
	DescribeLaunchTemplateVersions(context.Context, *ec2.DescribeLaunchTemplateVersionsInput, ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error)
	DescribeJobDefinitions(context.Context, *batch.DescribeJobDefinitionsInput, ...func(*batch.Options)) (*batch.DescribeJobDefinitionsOutput, error)
}

// tracingClients joins the two clients the check reads.
type tracingClients struct {
	*ec2.Client
	batch *batch.Client
}

func (c tracingClients) DescribeJobDefinitions(ctx context.Context, in *batch.DescribeJobDefinitionsInput, opts ...func(*batch.Options)) (*batch.DescribeJobDefinitionsOutput, error) {
	return c.batch.DescribeJobDefinitions(ctx, in, opts...)
}

var _ tracingAPI = tracingClients{}

// tracing names the stack's agent and tracer. Both are found as up left
// them: the agent by what the launch template's default version installs,
// the tracer by BATCHXRAY_TRACER in the newest active job definition
// (absent means the X-Ray SDK). A stack with neither yet gets no check: the
// stack check already says what is missing. The X-Ray daemon or SDK pass,
// with the end of support and the way off them as a warning.
func tracing(ctx context.Context, c tracingAPI, names provision.Names) []Check {
	name := "tracing"
	agent, ltVersion, err := stackAgent(ctx, c, names.LaunchTemplate)
	if err != nil {
		return []Check{couldNot(name, err, "allow ec2:DescribeLaunchTemplateVersions")}
	}
	tracer, revision, err := stackTracer(ctx, c, names.JobDefinition)
	if err != nil {
		return []Check{couldNot(name, err, "allow batch:DescribeJobDefinitions")}
	}
	if agent == "" && tracer == "" {
		return nil
	}
	var parts []string
	if agent != "" {
		parts = append(parts, fmt.Sprintf("agent %s (launch template %s version %d)", agent, names.LaunchTemplate, ltVersion))
	}
	if tracer != "" {
		parts = append(parts, fmt.Sprintf("tracer %s (job definition %s:%d)", tracer, names.JobDefinition, revision))
	}
	ck := Check{Name: name, OK: true, Detail: strings.Join(parts, ", "), Agent: agent, Tracer: tracer}
	var old []string
	if agent == userdata.AgentXRayDaemon {
		old = append(old, "the X-Ray daemon")
	}
	if tracer == provision.TracerXRay {
		old = append(old, "the X-Ray SDK")
	}
	if len(old) > 0 {
		ck.EndOfSupport = EndOfSupport
		ck.Warning = strings.Join(old, " and ") + " reach AWS's end of support on " + EndOfSupport +
			": run `batchxray up --agent cloudwatch --tracer otel` (the CloudWatch agent also takes X-Ray SDK segments, so jobs keep tracing while you switch)"
	}
	return []Check{ck}
}

// stackAgent is the agent the launch template's default version installs,
// "" when there is no launch template.
func stackAgent(ctx context.Context, c tracingAPI, template string) (string, int64, error) {
	out, err := c.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String(template),
		Versions:           []string{"$Default"},
	})
	switch {
	case code(err) == "InvalidLaunchTemplateName.NotFoundException" || code(err) == "InvalidLaunchTemplateId.NotFound":
		return "", 0, nil
	case err != nil:
		return "", 0, err
	case len(out.LaunchTemplateVersions) == 0:
		return "", 0, nil
	}
	v := out.LaunchTemplateVersions[0]
	agent := "unknown"
	if v.LaunchTemplateData != nil {
		script, _ := base64.StdEncoding.DecodeString(aws.ToString(v.LaunchTemplateData.UserData))
		switch s := string(script); {
		case strings.Contains(s, "amazon-cloudwatch-agent"):
			agent = userdata.AgentCloudWatch
		case strings.Contains(s, "aws-xray-daemon"):
			agent = userdata.AgentXRayDaemon
		}
	}
	return agent, aws.ToInt64(v.VersionNumber), nil
}

// stackTracer is BATCHXRAY_TRACER of the newest active revision of the job
// definition, provision.TracerXRay when unset, "" when there is none.
func stackTracer(ctx context.Context, c tracingAPI, definition string) (string, int32, error) {
	var newest *batchtypes.JobDefinition
	in := &batch.DescribeJobDefinitionsInput{JobDefinitionName: aws.String(definition), Status: aws.String("ACTIVE")}
	for {
		out, err := c.DescribeJobDefinitions(ctx, in)
		if err != nil {
			return "", 0, err
		}
		for i, d := range out.JobDefinitions {
			if newest == nil || aws.ToInt32(d.Revision) > aws.ToInt32(newest.Revision) {
				newest = &out.JobDefinitions[i]
			}
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if newest == nil {
		return "", 0, nil
	}
	tracer := provision.TracerXRay
	if cp := newest.ContainerProperties; cp != nil {
		for _, kv := range cp.Environment {
			if aws.ToString(kv.Name) == "BATCHXRAY_TRACER" && aws.ToString(kv.Value) != "" {
				tracer = aws.ToString(kv.Value)
			}
		}
	}
	return tracer, aws.ToInt32(newest.Revision), nil
}
