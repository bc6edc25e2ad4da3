package provision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/waiter"
)

// InvalidError is a compute environment or queue Batch reports INVALID,
// with Batch's own reason.
type InvalidError struct {
	Kind, Name, Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s %s is INVALID: %s", e.Kind, e.Name, e.Reason)
}

func (p *Provisioner) waitOptions() waiter.Options {
	return waiter.Options{MinDelay: p.waits.MinDelay, MaxDelay: p.waits.MaxDelay, MaxWait: p.waits.MaxWait, Clock: p.clock}
}

func (p *Provisioner) describeCE(ctx context.Context) (*batchtypes.ComputeEnvironmentDetail, error) {
	out, err := p.batch.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{p.names.ComputeEnvironment}})
	if err != nil {
		return nil, fmt.Errorf("describe compute environment: %w", err)
	}
	for _, ce := range out.ComputeEnvironments {
		if aws.ToString(ce.ComputeEnvironmentName) == p.names.ComputeEnvironment {
			return &ce, nil
		}
	}
	return nil, nil
}

// waitCESettled waits until the compute environment leaves CREATING and
// UPDATING, and returns it (nil once it is gone).
func (p *Provisioner) waitCESettled(ctx context.Context) (*batchtypes.ComputeEnvironmentDetail, error) {
	var ce *batchtypes.ComputeEnvironmentDetail
	err := waiter.Wait(ctx, "wait for compute environment "+p.names.ComputeEnvironment, p.waitOptions(), func(ctx context.Context) (bool, error) {
		var err error
		ce, err = p.describeCE(ctx)
		if err != nil || ce == nil {
			return true, err
		}
		switch ce.Status {
		case batchtypes.CEStatusCreating, batchtypes.CEStatusUpdating, batchtypes.CEStatusDeleting:
			return false, nil
		}
		return true, nil
	})
	return ce, err
}

// waitCEGone waits until the compute environment is deleted.
func (p *Provisioner) waitCEGone(ctx context.Context) error {
	return waiter.Wait(ctx, "wait for compute environment "+p.names.ComputeEnvironment+" to be deleted", p.waitOptions(), func(ctx context.Context) (bool, error) {
		ce, err := p.describeCE(ctx)
		return err == nil && (ce == nil || ce.Status == batchtypes.CEStatusDeleted), err
	})
}

// ceInput is the compute environment batchxray wants.
type ceInput struct {
	maxVCPUs        int32
	instanceTypes   []string
	subnets         []string
	securityGroup   string
	instanceProfile string // ARN
}

func (p *Provisioner) createCEInput(in ceInput) *batch.CreateComputeEnvironmentInput {
	tags := p.stackTags()
	return &batch.CreateComputeEnvironmentInput{
		ComputeEnvironmentName: aws.String(p.names.ComputeEnvironment),
		Type:                   batchtypes.CETypeManaged,
		State:                  batchtypes.CEStateEnabled,
		ComputeResources: &batchtypes.ComputeResource{
			Type:               batchtypes.CRTypeEc2,
			AllocationStrategy: batchtypes.CRAllocationStrategyBestFitProgressive,
			MinvCpus:           aws.Int32(0),
			MaxvCpus:           aws.Int32(in.maxVCPUs),
			InstanceTypes:      in.instanceTypes,
			Subnets:            in.subnets,
			SecurityGroupIds:   []string{in.securityGroup},
			InstanceRole:       aws.String(in.instanceProfile),
			LaunchTemplate: &batchtypes.LaunchTemplateSpecification{
				LaunchTemplateName: aws.String(p.names.LaunchTemplate),
				Version:            aws.String("$Default"),
			},
			Ec2Configuration: []batchtypes.Ec2Configuration{{ImageType: aws.String("ECS_AL2023")}},
			Tags:             tags,
		},
		Tags: tags,
	}
}

// propagationReason tells a compute environment that failed because its
// new instance profile or role has not propagated through IAM yet.
func propagationReason(s string) bool {
	s = strings.ReplaceAll(strings.ToLower(s), " ", "")
	for _, w := range []string{"instanceprofile", "instancerole", "iamrole", "notauthorized"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// ensureComputeEnvironment creates the compute environment and waits for it
// to be VALID, or converges an existing one. A new instance profile may not
// have propagated yet: creation is retried, and an environment that went
// INVALID for that reason is removed and created again, until the wait runs
// out. INVALID for any other reason fails with Batch's statusReason.
func (p *Provisioner) ensureComputeEnvironment(ctx context.Context, dry bool, in ceInput, ltChanged bool) (Result, error) {
	ce, err := p.describeCE(ctx)
	if err != nil {
		return Result{}, err
	}
	if ce == nil || ce.Status == batchtypes.CEStatusDeleted {
		if dry {
			return Result{Action: Create}, nil
		}
		return p.createComputeEnvironment(ctx, in)
	}
	if !p.owned(ce.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"compute environment", p.names.ComputeEnvironment, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(ce.ComputeEnvironmentArn)}
	upd := &batch.UpdateComputeEnvironmentInput{ComputeEnvironment: ce.ComputeEnvironmentArn}
	var what []string
	if ce.State != batchtypes.CEStateEnabled {
		upd.State = batchtypes.CEStateEnabled
		what = append(what, "enable")
	}
	cr := ce.ComputeResources
	if cr != nil {
		var crUpd batchtypes.ComputeResourceUpdate
		changed := false
		if aws.ToInt32(cr.MaxvCpus) != in.maxVCPUs {
			crUpd.MaxvCpus, changed = aws.Int32(in.maxVCPUs), true
			what = append(what, "max vCPUs "+strconv.Itoa(int(in.maxVCPUs)))
		}
		if !sameSet(cr.InstanceTypes, in.instanceTypes) {
			crUpd.InstanceTypes, changed = in.instanceTypes, true
			what = append(what, "instance types")
		}
		if ltChanged {
			crUpd.LaunchTemplate, changed = &batchtypes.LaunchTemplateSpecification{
				LaunchTemplateName: aws.String(p.names.LaunchTemplate), Version: aws.String("$Default"),
			}, true
			what = append(what, "launch template version")
		}
		if changed {
			upd.ComputeResources = &crUpd
		}
	}
	if len(what) == 0 {
		if ce.Status == batchtypes.CEStatusInvalid {
			return res, &InvalidError{"compute environment", p.names.ComputeEnvironment, aws.ToString(ce.StatusReason)}
		}
		return res, nil
	}
	res.Action, res.Detail = Update, strings.Join(what, ", ")
	if dry {
		return res, nil
	}
	if _, err := p.batch.UpdateComputeEnvironment(ctx, upd); err != nil {
		return Result{}, fmt.Errorf("update: %w", err)
	}
	ce, err = p.waitCESettled(ctx)
	if err != nil {
		return Result{}, err
	}
	if ce != nil && ce.Status == batchtypes.CEStatusInvalid {
		return Result{}, &InvalidError{"compute environment", p.names.ComputeEnvironment, aws.ToString(ce.StatusReason)}
	}
	return res, nil
}

func (p *Provisioner) createComputeEnvironment(ctx context.Context, in ceInput) (Result, error) {
	var res Result
	var last string
	err := waiter.Wait(ctx, "create compute environment "+p.names.ComputeEnvironment+" (waiting for IAM to propagate)", p.waitOptions(), func(ctx context.Context) (bool, error) {
		out, err := p.batch.CreateComputeEnvironment(ctx, p.createCEInput(in))
		if err != nil {
			if isCode(err, "ClientException") && propagationReason(err.Error()) {
				p.log.Debug("compute environment refused, IAM still propagating", "err", err)
				last = err.Error()
				return false, nil
			}
			return false, fmt.Errorf("create: %w", err)
		}
		res = Result{Action: Create, ARN: aws.ToString(out.ComputeEnvironmentArn)}
		ce, err := p.waitCESettled(ctx)
		if err != nil {
			return false, err
		}
		if ce == nil {
			return false, fmt.Errorf("create: the compute environment vanished")
		}
		if ce.Status != batchtypes.CEStatusInvalid {
			return true, nil
		}
		reason := aws.ToString(ce.StatusReason)
		if !propagationReason(reason) {
			return false, &InvalidError{"compute environment", p.names.ComputeEnvironment, reason}
		}
		p.log.Debug("compute environment INVALID while IAM propagates; recreating", "reason", reason)
		last = reason
		return false, p.deleteComputeEnvironment(ctx, ce)
	})
	if _, ok := err.(*waiter.TimeoutError); ok && last != "" {
		return Result{}, &InvalidError{"compute environment", p.names.ComputeEnvironment, last}
	}
	return res, err
}

func (p *Provisioner) describeQueue(ctx context.Context) (*batchtypes.JobQueueDetail, error) {
	out, err := p.batch.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{p.names.JobQueue}})
	if err != nil {
		return nil, fmt.Errorf("describe job queue: %w", err)
	}
	for _, q := range out.JobQueues {
		if aws.ToString(q.JobQueueName) == p.names.JobQueue {
			return &q, nil
		}
	}
	return nil, nil
}

func (p *Provisioner) waitQueueSettled(ctx context.Context) (*batchtypes.JobQueueDetail, error) {
	var q *batchtypes.JobQueueDetail
	err := waiter.Wait(ctx, "wait for job queue "+p.names.JobQueue, p.waitOptions(), func(ctx context.Context) (bool, error) {
		var err error
		q, err = p.describeQueue(ctx)
		if err != nil || q == nil {
			return true, err
		}
		switch q.Status {
		case batchtypes.JQStatusCreating, batchtypes.JQStatusUpdating, batchtypes.JQStatusDeleting:
			return false, nil
		}
		return true, nil
	})
	return q, err
}

// ensureJobQueue creates or converges the queue in front of the compute
// environment, and waits for it to be VALID.
func (p *Provisioner) ensureJobQueue(ctx context.Context, dry bool, ceARN string) (Result, error) {
	q, err := p.describeQueue(ctx)
	if err != nil {
		return Result{}, err
	}
	order := []batchtypes.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(ceARN)}}
	if q == nil || q.Status == batchtypes.JQStatusDeleted {
		if dry {
			return Result{Action: Create}, nil
		}
		out, err := p.batch.CreateJobQueue(ctx, &batch.CreateJobQueueInput{
			JobQueueName:            aws.String(p.names.JobQueue),
			Priority:                aws.Int32(1),
			State:                   batchtypes.JQStateEnabled,
			ComputeEnvironmentOrder: order,
			Tags:                    p.stackTags(),
		})
		if err != nil {
			return Result{}, fmt.Errorf("create: %w", err)
		}
		return p.settleQueue(ctx, Result{Action: Create, ARN: aws.ToString(out.JobQueueArn)})
	}
	if !p.owned(q.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"job queue", p.names.JobQueue, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(q.JobQueueArn)}
	upd := &batch.UpdateJobQueueInput{JobQueue: q.JobQueueArn}
	var what []string
	if q.State != batchtypes.JQStateEnabled {
		upd.State, what = batchtypes.JQStateEnabled, append(what, "enable")
	}
	if len(q.ComputeEnvironmentOrder) != 1 || aws.ToString(q.ComputeEnvironmentOrder[0].ComputeEnvironment) != ceARN {
		upd.ComputeEnvironmentOrder, what = order, append(what, "compute environment")
	}
	if len(what) == 0 {
		return res, nil
	}
	res.Action, res.Detail = Update, strings.Join(what, ", ")
	if dry {
		return res, nil
	}
	if _, err := p.batch.UpdateJobQueue(ctx, upd); err != nil {
		return Result{}, fmt.Errorf("update: %w", err)
	}
	return p.settleQueue(ctx, res)
}

func (p *Provisioner) settleQueue(ctx context.Context, res Result) (Result, error) {
	q, err := p.waitQueueSettled(ctx)
	if err != nil {
		return Result{}, err
	}
	if q != nil && q.Status == batchtypes.JQStatusInvalid {
		return Result{}, &InvalidError{"job queue", p.names.JobQueue, aws.ToString(q.StatusReason)}
	}
	return res, nil
}

// jobDefinition is what the stack's job definition should hold.
type jobDefinition struct {
	image, jobRoleARN, logGroup, bucket, sampleURL string
	vcpus, memoryMiB                               int32
	timeout                                        time.Duration
}

func (p *Provisioner) containerProperties(jd jobDefinition) *batchtypes.ContainerProperties {
	env := map[string]string{
		"AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
		"BATCHXRAY_BUCKET":         jd.bucket,
		"BATCHXRAY_SERVICE_NAME":   ServiceName,
	}
	if jd.sampleURL != "" {
		env["BATCHXRAY_URL"] = jd.sampleURL
	}
	var kv []batchtypes.KeyValuePair
	for _, k := range sortedKeys(env) {
		kv = append(kv, batchtypes.KeyValuePair{Name: aws.String(k), Value: aws.String(env[k])})
	}
	return &batchtypes.ContainerProperties{
		Image:      aws.String(jd.image),
		Command:    []string{"batchxray", "job"},
		JobRoleArn: aws.String(jd.jobRoleARN),
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

// activeJobDefinitions lists the ACTIVE revisions of the stack's job
// definition, newest first.
func (p *Provisioner) activeJobDefinitions(ctx context.Context) ([]batchtypes.JobDefinition, error) {
	var all []batchtypes.JobDefinition
	pages := batch.NewDescribeJobDefinitionsPaginator(p.batch, &batch.DescribeJobDefinitionsInput{
		JobDefinitionName: aws.String(p.names.JobDefinition),
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

// ensureJobDefinition registers a new revision when what the stack wants
// differs from the newest ACTIVE one, and deregisters the older revisions.
func (p *Provisioner) ensureJobDefinition(ctx context.Context, dry bool, jd jobDefinition) (Result, error) {
	defs, err := p.activeJobDefinitions(ctx)
	if err != nil {
		return Result{}, err
	}
	cp := p.containerProperties(jd)
	timeout := &batchtypes.JobTimeout{AttemptDurationSeconds: aws.Int32(int32(jd.timeout / time.Second))}
	res := Result{Action: Create}
	if len(defs) > 0 {
		latest := defs[0]
		if !p.owned(latest.Tags) {
			return Result{Action: NotOurs}, &NotOursError{"job definition", p.names.JobDefinition, p.names.Stack}
		}
		if jdFingerprint(latest.ContainerProperties, latest.Timeout) == jdFingerprint(cp, timeout) {
			return Result{Action: Unchanged, ARN: aws.ToString(latest.JobDefinitionArn)}, nil
		}
		res = Result{Action: Update, Detail: "new revision"}
	}
	if dry {
		return res, nil
	}
	out, err := p.batch.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{
		JobDefinitionName:    aws.String(p.names.JobDefinition),
		Type:                 batchtypes.JobDefinitionTypeContainer,
		ContainerProperties:  cp,
		Timeout:              timeout,
		PlatformCapabilities: []batchtypes.PlatformCapability{batchtypes.PlatformCapabilityEc2},
		PropagateTags:        aws.Bool(true),
		Tags:                 p.stackTags(),
	})
	if err != nil {
		return Result{}, fmt.Errorf("register: %w", err)
	}
	res.ARN = aws.ToString(out.JobDefinitionArn)
	if res.Action == Update {
		res.Detail = fmt.Sprintf("revision %d", aws.ToInt32(out.Revision))
	}
	for _, d := range defs {
		if _, err := p.batch.DeregisterJobDefinition(ctx, &batch.DeregisterJobDefinitionInput{JobDefinition: d.JobDefinitionArn}); err != nil {
			return Result{}, fmt.Errorf("deregister revision %d: %w", aws.ToInt32(d.Revision), err)
		}
	}
	return res, nil
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
