package provision

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/batchxray/batchxray/internal/userdata"
)

// hopLimit 2 lets containers on the host reach IMDSv2 through the bridge.
const hopLimit = 2

// launchTemplateData is what the stack's launch template holds: user data
// that installs the X-Ray daemon, and IMDSv2 required.
func launchTemplateData(userData string) *ec2types.RequestLaunchTemplateData {
	return &ec2types.RequestLaunchTemplateData{
		UserData: &userData,
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens:              ec2types.LaunchTemplateHttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(hopLimit),
			HttpEndpoint:            ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
		},
	}
}

// launchTemplate is the compute environment's launch template, whose user
// data installs the X-Ray daemon. Its ID is the Result's ID.
type launchTemplate struct {
	done
	p      *Provisioner
	params userdata.Params

	userData string  // encoded, what plan built
	id       *string // what plan or find found, nil for none
}

func (l *launchTemplate) kind() string { return "launch template" }
func (l *launchTemplate) name() string { return l.p.names.LaunchTemplate }

// describe returns the template and whether it is the stack's, or nil.
func (l *launchTemplate) describe(ctx context.Context) (*ec2types.LaunchTemplate, bool, error) {
	out, err := l.p.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{l.p.names.LaunchTemplate}})
	switch {
	case isCode(err, "InvalidLaunchTemplateName.NotFoundException"):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("describe launch template: %w", err)
	case len(out.LaunchTemplates) == 0:
		return nil, false, nil
	}
	lt := out.LaunchTemplates[0]
	return &lt, l.p.owned(fromEC2Tags(lt.Tags)), nil
}

// plan creates the launch template, or a new default version of it when
// its user data or metadata options drifted.
func (l *launchTemplate) plan(ctx context.Context) (Result, error) {
	doc, err := userdata.Build(l.params)
	if err != nil {
		return Result{}, fmt.Errorf("build user data: %w", err)
	}
	l.userData = userdata.Encode(doc)
	lt, ours, err := l.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case lt == nil:
		l.id = nil
		return Result{Action: Create, Detail: "agent " + l.agent()}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"launch template", l.p.names.LaunchTemplate, l.p.names.Stack}
	}
	l.id = lt.LaunchTemplateId
	res := Result{Action: Unchanged, ID: aws.ToString(lt.LaunchTemplateId)}
	versions, err := l.p.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: lt.LaunchTemplateId,
		Versions:         []string{"$Default"},
	})
	if err != nil {
		return Result{}, fmt.Errorf("describe launch template version: %w", err)
	}
	if len(versions.LaunchTemplateVersions) == 1 && !launchTemplateDrifted(versions.LaunchTemplateVersions[0].LaunchTemplateData, l.userData) {
		return res, nil
	}
	res.Action, res.Detail = Update, "new version, agent "+l.agent()
	return res, nil
}

// agent is the tracing agent the user data installs, as the plan names it.
func (l *launchTemplate) agent() string {
	if l.params.Agent == "" {
		return userdata.AgentXRayDaemon
	}
	return l.params.Agent
}

func (l *launchTemplate) apply(ctx context.Context) (Result, error) {
	p, name := l.p, l.p.names.LaunchTemplate
	if l.id == nil {
		created, err := p.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: &name,
			VersionDescription: aws.String(l.agent() + " for batchxray stack " + p.names.Stack),
			LaunchTemplateData: launchTemplateData(l.userData),
			TagSpecifications: []ec2types.TagSpecification{{
				ResourceType: ec2types.ResourceTypeLaunchTemplate,
				Tags:         ec2Tags(p.stackTags()),
			}},
		})
		if err != nil {
			return Result{}, fmt.Errorf("create launch template: %w", err)
		}
		return Result{Action: Create, ID: aws.ToString(created.LaunchTemplate.LaunchTemplateId)}, nil
	}
	res := l.out
	v, err := p.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   l.id,
		VersionDescription: aws.String(l.agent() + " for batchxray stack " + p.names.Stack),
		LaunchTemplateData: launchTemplateData(l.userData),
	})
	if err != nil {
		return Result{}, fmt.Errorf("create launch template version: %w", err)
	}
	n := aws.ToInt64(v.LaunchTemplateVersion.VersionNumber)
	if _, err := p.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: l.id,
		DefaultVersion:   aws.String(strconv.FormatInt(n, 10)),
	}); err != nil {
		return Result{}, fmt.Errorf("make version %d the default: %w", n, err)
	}
	res.Detail = fmt.Sprintf("version %d", n)
	return res, nil
}

func (l *launchTemplate) find(ctx context.Context) (Result, error) {
	lt, ours, err := l.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case lt == nil:
		return Result{Action: Absent}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"launch template", l.p.names.LaunchTemplate, l.p.names.Stack}
	}
	l.id = lt.LaunchTemplateId
	return Result{Action: Delete, ID: aws.ToString(lt.LaunchTemplateId)}, nil
}

func (l *launchTemplate) delete(ctx context.Context) (Result, error) {
	if _, err := l.p.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: l.id}); err != nil && !isCode(err, "InvalidLaunchTemplateId.NotFound") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return l.out, nil
}

// launchTemplateDrifted compares the decoded user data byte for byte, so a
// hand-edited script or one from another batchxray version is replaced, and
// the metadata options batchxray requires.
func launchTemplateDrifted(d *ec2types.ResponseLaunchTemplateData, want string) bool {
	if d == nil || d.MetadataOptions == nil {
		return true
	}
	m := d.MetadataOptions
	if m.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != hopLimit {
		return true
	}
	got, err1 := userdata.Decode(aws.ToString(d.UserData))
	wantDoc, err2 := userdata.Decode(want)
	return err1 != nil || err2 != nil || !bytes.Equal(got, wantDoc)
}
