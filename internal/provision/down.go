package provision

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/batchxray/batchxray/internal/waiter"
)

// Down deletes, in dependency order, every resource of the stack that
// carries the stack's tag. A resource that is not there is success; a
// same-named resource without the tag is left alone, reported, and makes
// Down return an error once everything else is removed.
func (p *Provisioner) Down(ctx context.Context) ([]Result, error) {
	p.results = nil
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	run := func(kind, name string, f func() (Result, error)) bool {
		_, err := p.step(kind, name, f)
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		return err == nil
	}
	// The queue before the compute environment it uses; both before IAM,
	// or the environment is stranded INVALID. Disabling the environment
	// needs only the queue known to be ours (or absent), so it runs while
	// the queue is disabled and deleted; deleting it waits for the queue to
	// be gone, as Batch refuses it before.
	queueOurs, queueGone := make(chan bool, 1), make(chan bool, 1)
	var oursOnce sync.Once
	ours := func(ok bool) { oursOnce.Do(func() { queueOurs <- ok }) }
	var ceOK bool
	wg.Go(func() {
		if <-queueOurs {
			ceOK = run("compute environment", p.names.ComputeEnvironment, func() (Result, error) { return p.deleteCEStep(ctx, queueGone) })
		}
	})
	queueOK := run("job queue", p.names.JobQueue, func() (Result, error) { return p.deleteJobQueue(ctx, func() { ours(true) }) })
	ours(false)
	queueGone <- queueOK
	wg.Wait()
	if !queueOK || !ceOK {
		return p.sortedResults(), errors.Join(errs...)
	}
	parallel := func(kind, name string, f func() (Result, error)) {
		wg.Go(func() { run(kind, name, f) })
	}
	parallel("job definition", p.names.JobDefinition, func() (Result, error) { return p.deleteJobDefinitions(ctx) })
	parallel("launch template", p.names.LaunchTemplate, func() (Result, error) { return p.deleteLaunchTemplate(ctx) })
	parallel("security group", p.names.SecurityGroup, func() (Result, error) { return p.deleteSecurityGroup(ctx) })
	parallel("S3 bucket", p.names.Bucket, func() (Result, error) { return p.deleteBucket(ctx) })
	parallel("ECR repository", p.names.Repository, func() (Result, error) { return p.deleteRepository(ctx) })
	parallel("X-Ray sampling rule", p.names.SamplingRule, func() (Result, error) { return p.deleteSamplingRule(ctx) })
	parallel("log group", p.names.LogGroup, func() (Result, error) { return p.deleteLogGroup(ctx) })
	wg.Wait()
	// IAM last. The instance role leaves its profile before it goes; the
	// job role depends on neither.
	parallel("IAM role", p.names.JobRole, func() (Result, error) { return p.deleteRole(ctx, p.names.JobRole) })
	run("IAM instance profile", p.names.InstanceProfile, func() (Result, error) { return p.deleteInstanceProfile(ctx) })
	run("IAM role", p.names.InstanceRole, func() (Result, error) { return p.deleteRole(ctx, p.names.InstanceRole) })
	wg.Wait()
	return p.sortedResults(), errors.Join(errs...)
}

// errQueueLeft stops the compute environment's deletion when the queue in
// front of it could not be deleted.
var errQueueLeft = errors.New("left disabled, not deleted: the job queue in front of it is still there")

// deleteJobQueue disables, deletes and waits out the queue. It calls ours
// once the queue is known to be absent or this stack's.
func (p *Provisioner) deleteJobQueue(ctx context.Context, ours func()) (Result, error) {
	q, err := p.describeQueue(ctx)
	if err != nil {
		return Result{}, err
	}
	if q == nil || q.Status == batchtypes.JQStatusDeleted {
		ours()
		return Result{Action: Absent}, nil
	}
	if !p.owned(q.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"job queue", p.names.JobQueue, p.names.Stack}
	}
	ours()
	res := Result{Action: Delete, ARN: aws.ToString(q.JobQueueArn)}
	if q.Status != batchtypes.JQStatusDeleting {
		if q.State != batchtypes.JQStateDisabled {
			if _, err := p.batch.UpdateJobQueue(ctx, &batch.UpdateJobQueueInput{JobQueue: q.JobQueueArn, State: batchtypes.JQStateDisabled}); err != nil {
				return Result{}, fmt.Errorf("disable: %w", err)
			}
		}
		if _, err := p.waitQueueSettled(ctx); err != nil {
			return Result{}, err
		}
		if _, err := p.batch.DeleteJobQueue(ctx, &batch.DeleteJobQueueInput{JobQueue: q.JobQueueArn}); err != nil {
			return Result{}, fmt.Errorf("delete: %w", err)
		}
	}
	err = waiter.Wait(ctx, "wait for job queue "+p.names.JobQueue+" to be deleted", p.waitOptions(), func(ctx context.Context) (bool, error) {
		q, err := p.describeQueue(ctx)
		return err == nil && (q == nil || q.Status == batchtypes.JQStatusDeleted), err
	})
	return res, err
}

// deleteCEStep disables the compute environment, and deletes and waits it
// out once queueGone says the queue in front of it is gone.
func (p *Provisioner) deleteCEStep(ctx context.Context, queueGone <-chan bool) (Result, error) {
	ce, err := p.describeCE(ctx)
	if err != nil {
		return Result{}, err
	}
	if ce == nil || ce.Status == batchtypes.CEStatusDeleted {
		return Result{Action: Absent}, nil
	}
	if !p.owned(ce.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"compute environment", p.names.ComputeEnvironment, p.names.Stack}
	}
	res := Result{Action: Delete, ARN: aws.ToString(ce.ComputeEnvironmentArn)}
	if ce.Status == batchtypes.CEStatusDeleting {
		return res, p.waitCEGone(ctx)
	}
	if err := p.disableCE(ctx, ce); err != nil {
		return Result{}, err
	}
	if !<-queueGone {
		return Result{}, errQueueLeft
	}
	return res, p.finishCEDelete(ctx, ce)
}

// deleteComputeEnvironment disables, deletes and waits out a compute
// environment, INVALID ones included.
func (p *Provisioner) deleteComputeEnvironment(ctx context.Context, ce *batchtypes.ComputeEnvironmentDetail) error {
	if ce.Status == batchtypes.CEStatusDeleting {
		return p.waitCEGone(ctx)
	}
	if err := p.disableCE(ctx, ce); err != nil {
		return err
	}
	return p.finishCEDelete(ctx, ce)
}

// disableCE disables the compute environment and waits until Batch has.
func (p *Provisioner) disableCE(ctx context.Context, ce *batchtypes.ComputeEnvironmentDetail) error {
	if ce.State != batchtypes.CEStateDisabled {
		if _, err := p.batch.UpdateComputeEnvironment(ctx, &batch.UpdateComputeEnvironmentInput{ComputeEnvironment: ce.ComputeEnvironmentArn, State: batchtypes.CEStateDisabled}); err != nil {
			return fmt.Errorf("disable: %w", err)
		}
	}
	_, err := p.waitCESettled(ctx)
	return err
}

// finishCEDelete deletes a disabled compute environment and waits until it
// is gone.
func (p *Provisioner) finishCEDelete(ctx context.Context, ce *batchtypes.ComputeEnvironmentDetail) error {
	if _, err := p.batch.DeleteComputeEnvironment(ctx, &batch.DeleteComputeEnvironmentInput{ComputeEnvironment: ce.ComputeEnvironmentArn}); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	return p.waitCEGone(ctx)
}

func (p *Provisioner) deleteJobDefinitions(ctx context.Context) (Result, error) {
	defs, err := p.activeJobDefinitions(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{Action: Absent}
	var notOurs error
	for _, d := range defs {
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

func (p *Provisioner) deleteLaunchTemplate(ctx context.Context) (Result, error) {
	out, err := p.ec2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{p.names.LaunchTemplate}})
	if isCode(err, "InvalidLaunchTemplateName.NotFoundException") || (err == nil && len(out.LaunchTemplates) == 0) {
		return Result{Action: Absent}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("describe: %w", err)
	}
	lt := out.LaunchTemplates[0]
	if !p.owned(fromEC2Tags(lt.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"launch template", p.names.LaunchTemplate, p.names.Stack}
	}
	if _, err := p.ec2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: lt.LaunchTemplateId}); err != nil && !isCode(err, "InvalidLaunchTemplateId.NotFound") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete, ID: aws.ToString(lt.LaunchTemplateId)}, nil
}

func (p *Provisioner) deleteSecurityGroup(ctx context.Context) (Result, error) {
	out, err := p.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{filter("group-name", p.names.SecurityGroup)}})
	if err != nil {
		return Result{}, fmt.Errorf("describe: %w", err)
	}
	res := Result{Action: Absent}
	var notOurs error
	for _, sg := range out.SecurityGroups {
		if !p.owned(fromEC2Tags(sg.Tags)) {
			res.Action, notOurs = NotOurs, &NotOursError{"security group", p.names.SecurityGroup + " (" + aws.ToString(sg.GroupId) + ")", p.names.Stack}
			continue
		}
		// The instances' network interfaces can outlive the compute
		// environment for a while: DependencyViolation until they are gone.
		err := waiter.Wait(ctx, "delete security group "+aws.ToString(sg.GroupId), p.waitOptions(), func(ctx context.Context) (bool, error) {
			_, err := p.ec2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: sg.GroupId})
			switch {
			case err == nil, isCode(err, "InvalidGroup.NotFound"):
				return true, nil
			case isCode(err, "DependencyViolation"):
				return false, nil
			}
			return false, fmt.Errorf("delete: %w", err)
		})
		if err != nil {
			return Result{}, err
		}
		res.Action, res.ID = Delete, aws.ToString(sg.GroupId)
	}
	return res, notOurs
}

func (p *Provisioner) deleteBucket(ctx context.Context) (Result, error) {
	b := p.names.Bucket
	tags, err := p.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &b})
	switch {
	case isCode(err, "NoSuchBucket", "NotFound"):
		return Result{Action: Absent}, nil
	case isCode(err, "NoSuchTagSet"):
		return Result{Action: NotOurs}, &NotOursError{"S3 bucket", b, p.names.Stack}
	case err != nil:
		return Result{}, fmt.Errorf("get tags: %w", err)
	}
	if !p.owned(fromS3Tags(tags.TagSet)) {
		return Result{Action: NotOurs}, &NotOursError{"S3 bucket", b, p.names.Stack}
	}
	if err := p.emptyBucket(ctx); err != nil {
		return Result{}, err
	}
	if _, err := p.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &b}); err != nil && !isCode(err, "NoSuchBucket") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete}, nil
}

// emptyBucket deletes every object version, or every object where the
// endpoint does not list versions.
func (p *Provisioner) emptyBucket(ctx context.Context) error {
	b := p.names.Bucket
	del := func(ids []s3types.ObjectIdentifier) error {
		if len(ids) == 0 {
			return nil
		}
		out, err := p.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &b, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("delete object %s: %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
		return nil
	}
	versions := s3.NewListObjectVersionsPaginator(p.s3, &s3.ListObjectVersionsInput{Bucket: &b})
	for versions.HasMorePages() {
		page, err := versions.NextPage(ctx)
		if isCode(err, "NotImplemented") {
			break
		}
		if err != nil {
			return fmt.Errorf("list object versions: %w", err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if err := del(ids); err != nil {
			return err
		}
	}
	objects := s3.NewListObjectsV2Paginator(p.s3, &s3.ListObjectsV2Input{Bucket: &b})
	for objects.HasMorePages() {
		page, err := objects.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if err := del(ids); err != nil {
			return err
		}
	}
	return nil
}

func (p *Provisioner) deleteRepository(ctx context.Context) (Result, error) {
	name := p.names.Repository
	out, err := p.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if isCode(err, "RepositoryNotFoundException") || (err == nil && len(out.Repositories) == 0) {
		return Result{Action: Absent}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("describe: %w", err)
	}
	r := out.Repositories[0]
	tags, err := p.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
	if err != nil {
		return Result{}, fmt.Errorf("list tags: %w", err)
	}
	if !p.owned(fromECRTags(tags.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"ECR repository", name, p.names.Stack}
	}
	if _, err := p.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: &name, Force: true}); err != nil && !isCode(err, "RepositoryNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete, ARN: aws.ToString(r.RepositoryArn)}, nil
}

func (p *Provisioner) deleteSamplingRule(ctx context.Context) (Result, error) {
	r, err := p.findSamplingRule(ctx)
	if err != nil || r == nil {
		return Result{Action: Absent}, err
	}
	tags, err := p.xray.ListTagsForResource(ctx, &xray.ListTagsForResourceInput{ResourceARN: r.RuleARN})
	if err != nil {
		return Result{}, fmt.Errorf("list tags: %w", err)
	}
	if !p.owned(fromXRayTags(tags.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"X-Ray sampling rule", p.names.SamplingRule, p.names.Stack}
	}
	if _, err := p.xray.DeleteSamplingRule(ctx, &xray.DeleteSamplingRuleInput{RuleName: r.RuleName}); err != nil && !isCode(err, "InvalidRequestException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete, ARN: aws.ToString(r.RuleARN)}, nil
}

func (p *Provisioner) deleteLogGroup(ctx context.Context) (Result, error) {
	g, err := p.findLogGroup(ctx)
	if err != nil || g == nil {
		return Result{Action: Absent}, err
	}
	arn := logGroupARN(g)
	tags, err := p.logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: &arn})
	if err != nil {
		return Result{}, fmt.Errorf("list tags: %w", err)
	}
	if !p.owned(tags.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"log group", p.names.LogGroup, p.names.Stack}
	}
	if _, err := p.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: g.LogGroupName}); err != nil && !isCode(err, "ResourceNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete, ARN: arn}, nil
}

func (p *Provisioner) deleteInstanceProfile(ctx context.Context) (Result, error) {
	name := p.names.InstanceProfile
	out, err := p.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: &name})
	if isCode(err, "NoSuchEntity") {
		return Result{Action: Absent}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("get: %w", err)
	}
	ip := out.InstanceProfile
	if !p.owned(fromIAMTags(ip.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM instance profile", name, p.names.Stack}
	}
	for _, r := range ip.Roles {
		if _, err := p.iam.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: &name, RoleName: r.RoleName}); err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("remove role %s: %w", aws.ToString(r.RoleName), err)
		}
	}
	if _, err := p.iam.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: &name}); err != nil && !isCode(err, "NoSuchEntity") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete, ARN: aws.ToString(ip.Arn)}, nil
}

func (p *Provisioner) deleteRole(ctx context.Context, name string) (Result, error) {
	out, err := p.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if isCode(err, "NoSuchEntity") {
		return Result{Action: Absent}, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("get: %w", err)
	}
	if !p.owned(fromIAMTags(out.Role.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"IAM role", name, p.names.Stack}
	}
	attached, err := p.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	if err != nil {
		return Result{}, fmt.Errorf("list attached policies: %w", err)
	}
	for _, a := range attached.AttachedPolicies {
		if _, err := p.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &name, PolicyArn: a.PolicyArn}); err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("detach %s: %w", aws.ToString(a.PolicyArn), err)
		}
	}
	inline, err := p.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name})
	if err != nil {
		return Result{}, fmt.Errorf("list inline policies: %w", err)
	}
	for _, pn := range inline.PolicyNames {
		if _, err := p.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: &name, PolicyName: aws.String(pn)}); err != nil && !isCode(err, "NoSuchEntity") {
			return Result{}, fmt.Errorf("delete inline policy %s: %w", pn, err)
		}
	}
	if _, err := p.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &name}); err != nil && !isCode(err, "NoSuchEntity") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return Result{Action: Delete, ARN: aws.ToString(out.Role.Arn)}, nil
}
