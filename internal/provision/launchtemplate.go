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

// ensureLaunchTemplate creates the launch template, or a new default
// version of it when its user data or metadata options drifted. The
// template's ID is the Result's ID.
func (p *Provisioner) ensureLaunchTemplate(ctx context.Context, dry bool, ud userdata.Params) (Result, error) {
	name := p.names.LaunchTemplate
	doc, err := userdata.Build(ud)
	if err != nil {
		return Result{}, fmt.Errorf("build user data: %w", err)
	}
	want := userdata.Encode(doc)
	out, err := p.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{name}})
	switch {
	case isCode(err, "InvalidLaunchTemplateName.NotFoundException"):
		if dry {
			return Result{Action: Create}, nil
		}
		created, err := p.ec2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: &name,
			VersionDescription: aws.String("X-Ray daemon for batchxray stack " + p.names.Stack),
			LaunchTemplateData: launchTemplateData(want),
			TagSpecifications: []ec2types.TagSpecification{{
				ResourceType: ec2types.ResourceTypeLaunchTemplate,
				Tags:         ec2Tags(p.stackTags()),
			}},
		})
		if err != nil {
			return Result{}, fmt.Errorf("create launch template: %w", err)
		}
		return Result{Action: Create, ID: aws.ToString(created.LaunchTemplate.LaunchTemplateId)}, nil
	case err != nil:
		return Result{}, fmt.Errorf("describe launch template: %w", err)
	case len(out.LaunchTemplates) == 0:
		return Result{}, fmt.Errorf("describe launch template: no template in the answer")
	}
	lt := out.LaunchTemplates[0]
	if !p.owned(fromEC2Tags(lt.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"launch template", name, p.names.Stack}
	}
	res := Result{Action: Unchanged, ID: aws.ToString(lt.LaunchTemplateId)}
	versions, err := p.ec2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: lt.LaunchTemplateId,
		Versions:         []string{"$Default"},
	})
	if err != nil {
		return Result{}, fmt.Errorf("describe launch template version: %w", err)
	}
	if len(versions.LaunchTemplateVersions) == 1 && !launchTemplateDrifted(versions.LaunchTemplateVersions[0].LaunchTemplateData, want) {
		return res, nil
	}
	res.Action, res.Detail = Update, "new version"
	if dry {
		return res, nil
	}
	v, err := p.ec2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{
		LaunchTemplateId:   lt.LaunchTemplateId,
		VersionDescription: aws.String("X-Ray daemon for batchxray stack " + p.names.Stack),
		LaunchTemplateData: launchTemplateData(want),
	})
	if err != nil {
		return Result{}, fmt.Errorf("create launch template version: %w", err)
	}
	n := aws.ToInt64(v.LaunchTemplateVersion.VersionNumber)
	if _, err := p.ec2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{
		LaunchTemplateId: lt.LaunchTemplateId,
		DefaultVersion:   aws.String(strconv.FormatInt(n, 10)),
	}); err != nil {
		return Result{}, fmt.Errorf("make version %d the default: %w", n, err)
	}
	res.Detail = fmt.Sprintf("version %d", n)
	return res, nil
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
