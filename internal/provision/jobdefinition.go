package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// jobDefinition is the stack's job definition: batchxray's image (or the
// user's), the job role, the bucket, the log group and the defaults.
type jobDefinition struct {
	done
	p       *Provisioner
	jobRole *iamRole
	// image is batchxray's job image; nil when imageRef is the user's.
	image    *jobImage
	imageRef string

	bucket, logGroup, sampleURL string
	vcpus, memoryMiB            int32
	timeout                     time.Duration
	// imageCommand leaves the command to the image (up --base-image),
	// whose entrypoint runs it under `batchxray job --`.
	imageCommand bool
	// tracer is BATCHXRAY_TRACER ("" for the X-Ray SDK's).
	tracer string

	defs []batchtypes.JobDefinition // what plan or find found: the ACTIVE revisions, newest first
}

func (jd *jobDefinition) kind() string { return "job definition" }
func (jd *jobDefinition) name() string { return jd.p.names.JobDefinition }

func (jd *jobDefinition) ref() string {
	if jd.image != nil {
		return jd.image.out.ID
	}
	return jd.imageRef
}

func (jd *jobDefinition) jobTimeout() *batchtypes.JobTimeout {
	return &batchtypes.JobTimeout{AttemptDurationSeconds: aws.Int32(int32(jd.timeout / time.Second))}
}

// plan wants a new revision when what the stack wants differs from the
// newest ACTIVE one.
func (jd *jobDefinition) plan(ctx context.Context) (Result, error) {
	p := jd.p
	defs, err := jd.active(ctx)
	if err != nil {
		return Result{}, err
	}
	jd.defs = defs
	if len(defs) == 0 {
		return Result{Action: Create, Detail: "tracer " + jd.tracerName()}, nil
	}
	latest := defs[0]
	if !p.owned(latest.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"job definition", p.names.JobDefinition, p.names.Stack}
	}
	if jdFingerprint(latest.ContainerProperties, latest.Timeout) == jdFingerprint(jd.containerProperties(), jd.jobTimeout()) {
		return Result{Action: Unchanged, ARN: aws.ToString(latest.JobDefinitionArn)}, nil
	}
	return Result{Action: Update, Detail: "new revision, tracer " + jd.tracerName()}, nil
}

// apply registers the new revision and deregisters the older ones.
func (jd *jobDefinition) apply(ctx context.Context) (Result, error) {
	p := jd.p
	res := jd.out
	out, err := p.batch.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{
		JobDefinitionName:    aws.String(p.names.JobDefinition),
		Type:                 batchtypes.JobDefinitionTypeContainer,
		ContainerProperties:  jd.containerProperties(),
		Timeout:              jd.jobTimeout(),
		PlatformCapabilities: []batchtypes.PlatformCapability{batchtypes.PlatformCapabilityEc2},
		PropagateTags:        aws.Bool(true),
		Tags:                 p.stackTags(),
	})
	if err != nil {
		return Result{}, fmt.Errorf("register: %w", err)
	}
	res.ARN = aws.ToString(out.JobDefinitionArn)
	res.Detail = ""
	if res.Action == Update {
		res.Detail = fmt.Sprintf("revision %d", aws.ToInt32(out.Revision))
	}
	for _, d := range jd.defs {
		if _, err := p.batch.DeregisterJobDefinition(ctx, &batch.DeregisterJobDefinitionInput{JobDefinition: d.JobDefinitionArn}); err != nil {
			return Result{}, fmt.Errorf("deregister revision %d: %w", aws.ToInt32(d.Revision), err)
		}
	}
	return res, nil
}

func (jd *jobDefinition) find(ctx context.Context) (Result, error) {
	defs, err := jd.active(ctx)
	if err != nil {
		return Result{}, err
	}
	jd.defs = defs
	if len(defs) == 0 {
		return Result{Action: Absent}, nil
	}
	return Result{Action: Delete}, nil
}

// delete deregisters the stack's revisions and leaves the others, which it
// reports.
func (jd *jobDefinition) delete(ctx context.Context) (Result, error) {
	p := jd.p
	res := Result{Action: Absent}
	var notOurs error
	for _, d := range jd.defs {
		if !p.owned(d.Tags) {
			res.Action, notOurs = NotOurs, &NotOursError{"job definition", fmt.Sprintf("%s:%d", p.names.JobDefinition, aws.ToInt32(d.Revision)), p.names.Stack}
			continue
		}
		if _, err := p.batch.DeregisterJobDefinition(ctx, &batch.DeregisterJobDefinitionInput{JobDefinition: d.JobDefinitionArn}); err != nil {
			return Result{}, fmt.Errorf("deregister revision %d: %w", aws.ToInt32(d.Revision), err)
		}
		if res.Action == Absent {
			res.Action = Delete
		}
	}
	return res, notOurs
}

func (jd *jobDefinition) containerProperties() *batchtypes.ContainerProperties {
	p := jd.p
	env := map[string]string{
		// Older ECS agents give the container no AWS_REGION, and the job's
		// S3 upload needs one.
		"AWS_REGION":               p.region,
		"AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
		"BATCHXRAY_BUCKET":         jd.bucket,
		"BATCHXRAY_SERVICE_NAME":   ServiceName,
	}
	if jd.sampleURL != "" {
		env["BATCHXRAY_URL"] = jd.sampleURL
	}
	if jd.tracer != "" && jd.tracer != TracerXRay {
		env["BATCHXRAY_TRACER"] = jd.tracer
	}
	var kv []batchtypes.KeyValuePair
	for _, k := range sortedKeys(env) {
		kv = append(kv, batchtypes.KeyValuePair{Name: aws.String(k), Value: aws.String(env[k])})
	}
	cp := &batchtypes.ContainerProperties{
		Image:      aws.String(jd.ref()),
		Command:    []string{"batchxray", "job"},
		JobRoleArn: aws.String(jd.jobRole.out.ARN),
		ResourceRequirements: []batchtypes.ResourceRequirement{
			{Type: batchtypes.ResourceTypeVcpu, Value: aws.String(strconv.Itoa(int(jd.vcpus)))},
			{Type: batchtypes.ResourceTypeMemory, Value: aws.String(strconv.Itoa(int(jd.memoryMiB)))},
		},
		Environment: kv,
		LogConfiguration: &batchtypes.LogConfiguration{
			LogDriver: batchtypes.LogDriverAwslogs,
			Options: map[string]string{
				"awslogs-group":         jd.logGroup,
				"awslogs-region":        p.region,
				"awslogs-stream-prefix": "batchxray",
			},
		},
	}
	if jd.imageCommand {
		// The image's entrypoint is `batchxray job --` and its own; its
		// command is the default one (submit -- CMD overrides it).
		cp.Command = nil
	}
	return cp
}

// tracerName is the tracer the plan names.
func (jd *jobDefinition) tracerName() string {
	if jd.tracer == "" {
		return TracerXRay
	}
	return jd.tracer
}

// jdFingerprint is the part of a job definition batchxray sets, in a form
// that compares equal whatever order AWS returns lists in.
func jdFingerprint(cp *batchtypes.ContainerProperties, timeout *batchtypes.JobTimeout) string {
	if cp == nil {
		return ""
	}
	env := map[string]string{}
	for _, kv := range cp.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	res := map[string]string{}
	for _, r := range cp.ResourceRequirements {
		res[string(r.Type)] = aws.ToString(r.Value)
	}
	f := struct {
		Image, Role string
		Command     []string
		Env, Res    map[string]string
		Log         any
		Timeout     int32
	}{aws.ToString(cp.Image), aws.ToString(cp.JobRoleArn), cp.Command, env, res, cp.LogConfiguration, 0}
	if timeout != nil {
		f.Timeout = aws.ToInt32(timeout.AttemptDurationSeconds)
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// active lists the ACTIVE revisions of the stack's job
// definition, newest first.
func (jd *jobDefinition) active(ctx context.Context) ([]batchtypes.JobDefinition, error) {
	var all []batchtypes.JobDefinition
	pages := batch.NewDescribeJobDefinitionsPaginator(jd.p.batch, &batch.DescribeJobDefinitionsInput{
		JobDefinitionName: aws.String(jd.p.names.JobDefinition),
		Status:            aws.String("ACTIVE"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe job definitions: %w", err)
		}
		all = append(all, page.JobDefinitions...)
	}
	slices.SortFunc(all, func(a, b batchtypes.JobDefinition) int { return int(aws.ToInt32(b.Revision) - aws.ToInt32(a.Revision)) })
	return all, nil
}
