package provision

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/waiter"
)

// computeEnvironment is the managed EC2 compute environment the jobs run
// in. It uses the instance profile, the security group (and the subnets of
// its network) and the launch template.
type computeEnvironment struct {
	done
	p       *Provisioner
	profile *instanceProfile
	sg      *securityGroup
	lt      *launchTemplate

	maxVCPUs      int32
	instanceTypes []string
	spot          bool

	found *batchtypes.ComputeEnvironmentDetail // what plan or find found
	upd   *batch.UpdateComputeEnvironmentInput // what plan would change
	// recreate is plan's finding that the environment is INVALID for a
	// reason a new one fixes (IAM had not propagated when an interrupted
	// up created it).
	recreate bool
}

// crType is the compute resources' type: EC2, or SPOT with --spot.
func (c *computeEnvironment) crType() batchtypes.CRType {
	if c.spot {
		return batchtypes.CRTypeSpot
	}
	return batchtypes.CRTypeEc2
}

func (c *computeEnvironment) kind() string { return "compute environment" }
func (c *computeEnvironment) name() string { return c.p.names.ComputeEnvironment }

// plan says what would change. An environment still CREATING, UPDATING
// or DELETING (another up, or a down, is at work on it) is waited for
// first: what it will be is not known yet. One INVALID because IAM had
// not propagated is recreated; one INVALID for another reason with
// nothing to change fails with Batch's statusReason.
func (c *computeEnvironment) plan(ctx context.Context) (Result, error) {
	p := c.p
	c.recreate = false
	ce, err := p.describeCE(ctx)
	if err != nil {
		return Result{}, err
	}
	if ce != nil && settling(ce.Status) {
		if ce, err = p.waitCESettled(ctx); err != nil {
			return Result{}, err
		}
	}
	if ce == nil || ce.Status == batchtypes.CEStatusDeleted {
		c.found = nil
		return Result{Action: Create}, nil
	}
	c.found = ce
	if !p.owned(ce.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"compute environment", p.names.ComputeEnvironment, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(ce.ComputeEnvironmentArn)}
	if cr := ce.ComputeResources; cr != nil && cr.Type != c.crType() {
		return res, fmt.Errorf("it is %s and this up asks for %s (--spot), which Batch cannot change in place: run `batchxray down`, then up", cr.Type, c.crType())
	}
	if ce.Status == batchtypes.CEStatusInvalid && propagationReason(aws.ToString(ce.StatusReason)) {
		c.recreate = true
		res.Action, res.Detail = Update, "recreate: INVALID, "+aws.ToString(ce.StatusReason)
		return res, nil
	}
	upd := &batch.UpdateComputeEnvironmentInput{ComputeEnvironment: ce.ComputeEnvironmentArn}
	var what []string
	if ce.State != batchtypes.CEStateEnabled {
		upd.State = batchtypes.CEStateEnabled
		what = append(what, "enable")
	}
	if cr := ce.ComputeResources; cr != nil {
		var crUpd batchtypes.ComputeResourceUpdate
		changed := false
		if aws.ToInt32(cr.MaxvCpus) != c.maxVCPUs {
			crUpd.MaxvCpus, changed = aws.Int32(c.maxVCPUs), true
			what = append(what, "max vCPUs "+strconv.Itoa(int(c.maxVCPUs)))
		}
		if !sameSet(cr.InstanceTypes, c.instanceTypes) {
			crUpd.InstanceTypes, changed = c.instanceTypes, true
			what = append(what, "instance types")
		}
		if want := c.sg.net.subnets; !sameSet(cr.Subnets, want) {
			crUpd.Subnets, changed = want, true
			what = append(what, "subnets")
		}
		if want := []string{c.sg.out.ID}; !sameSet(cr.SecurityGroupIds, want) {
			crUpd.SecurityGroupIds, changed = want, true
			what = append(what, "security group")
		}
		if c.lt.out.Action == Update {
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
	c.upd = upd
	res.Action, res.Detail = Update, strings.Join(what, ", ")
	return res, nil
}

// apply creates the compute environment and waits for it to be VALID, or
// makes plan's update. A new instance profile may not have propagated
// yet: creation is retried, and an environment that went INVALID for that
// reason is removed and created again, until the wait runs out. INVALID
// for any other reason fails with Batch's statusReason.
func (c *computeEnvironment) apply(ctx context.Context) (Result, error) {
	p := c.p
	if c.found == nil {
		return c.create(ctx)
	}
	if c.recreate {
		q, err := p.describeQueue(ctx)
		if err != nil {
			return Result{}, err
		}
		if q != nil && q.Status != batchtypes.JQStatusDeleted && len(q.ComputeEnvironmentOrder) > 0 {
			// The queue in front of it keeps Batch from deleting it:
			// give it its instance profile again instead.
			return c.repairInPlace(ctx)
		}
		// As the create path does with an environment that went INVALID.
		if err := p.deleteComputeEnvironment(ctx, c.found); err != nil {
			return Result{}, fmt.Errorf("remove the INVALID compute environment: %w", err)
		}
		res, err := c.create(ctx)
		res.Action, res.Detail = Update, "recreated"
		return res, err
	}
	if _, err := p.batch.UpdateComputeEnvironment(ctx, c.upd); err != nil {
		return Result{}, fmt.Errorf("update: %w", err)
	}
	ce, err := p.waitCESettled(ctx)
	if err != nil {
		return Result{}, err
	}
	if ce != nil && ce.Status == batchtypes.CEStatusInvalid {
		return Result{}, &InvalidError{"compute environment", p.names.ComputeEnvironment, aws.ToString(ce.StatusReason)}
	}
	return c.out, nil
}

// repairInPlace updates an INVALID environment with its instance profile
// and waits, again while IAM is still propagating, until it is VALID.
func (c *computeEnvironment) repairInPlace(ctx context.Context) (Result, error) {
	p := c.p
	var last string
	err := waiter.Wait(ctx, "repair compute environment "+p.names.ComputeEnvironment+" (waiting for IAM to propagate)", p.waitOptions(), func(ctx context.Context) (bool, error) {
		if _, err := p.batch.UpdateComputeEnvironment(ctx, &batch.UpdateComputeEnvironmentInput{
			ComputeEnvironment: c.found.ComputeEnvironmentArn, State: batchtypes.CEStateEnabled,
			ComputeResources: &batchtypes.ComputeResourceUpdate{InstanceRole: aws.String(c.profile.out.ARN)},
		}); err != nil {
			return false, fmt.Errorf("update: %w", err)
		}
		ce, err := p.waitCESettled(ctx)
		if err != nil || ce == nil {
			return false, err
		}
		if ce.Status != batchtypes.CEStatusInvalid {
			return true, nil
		}
		if last = aws.ToString(ce.StatusReason); !propagationReason(last) {
			return false, &InvalidError{"compute environment", p.names.ComputeEnvironment, last}
		}
		return false, nil
	})
	if _, ok := err.(*waiter.TimeoutError); ok && last != "" {
		return Result{}, &InvalidError{"compute environment", p.names.ComputeEnvironment, last}
	}
	return Result{Action: Update, ARN: aws.ToString(c.found.ComputeEnvironmentArn), Detail: "repaired: instance profile"}, err
}

func (c *computeEnvironment) find(ctx context.Context) (Result, error) {
	p := c.p
	ce, err := p.describeCE(ctx)
	if err != nil {
		return Result{}, err
	}
	if ce == nil || ce.Status == batchtypes.CEStatusDeleted {
		return Result{Action: Absent}, nil
	}
	c.found = ce
	if !p.owned(ce.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"compute environment", p.names.ComputeEnvironment, p.names.Stack}
	}
	return Result{Action: Delete, ARN: aws.ToString(ce.ComputeEnvironmentArn)}, nil
}

// drain disables the compute environment, which Batch allows while the
// queue in front of it is still being deleted.
func (c *computeEnvironment) drain(ctx context.Context) error {
	if c.found.Status == batchtypes.CEStatusDeleting {
		return nil
	}
	return c.p.disableCE(ctx, c.found)
}

// delete deletes the disabled environment, once the queue in front of it
// is gone, and waits until it is gone too.
func (c *computeEnvironment) delete(ctx context.Context) (Result, error) {
	if c.found.Status == batchtypes.CEStatusDeleting {
		return c.out, c.p.waitCEGone(ctx)
	}
	return c.out, c.p.finishCEDelete(ctx, c.found)
}

func (c *computeEnvironment) createInput() *batch.CreateComputeEnvironmentInput {
	p := c.p
	tags := p.stackTags()
	return &batch.CreateComputeEnvironmentInput{
		ComputeEnvironmentName: aws.String(p.names.ComputeEnvironment),
		Type:                   batchtypes.CETypeManaged,
		State:                  batchtypes.CEStateEnabled,
		ComputeResources: &batchtypes.ComputeResource{
			Type:               c.crType(),
			AllocationStrategy: c.allocation(),
			MinvCpus:           aws.Int32(0),
			MaxvCpus:           aws.Int32(c.maxVCPUs),
			InstanceTypes:      c.instanceTypes,
			Subnets:            c.sg.net.subnets,
			SecurityGroupIds:   []string{c.sg.out.ID},
			InstanceRole:       aws.String(c.profile.out.ARN),
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

// allocation is BEST_FIT_PROGRESSIVE on demand, and on Spot the
// strategy that needs no Spot fleet role: both let Batch update subnets,
// security groups and instance types in place.
func (c *computeEnvironment) allocation() batchtypes.CRAllocationStrategy {
	if c.spot {
		return batchtypes.CRAllocationStrategySpotPriceCapacityOptimized
	}
	return batchtypes.CRAllocationStrategyBestFitProgressive
}

// settling tells the states Batch is still working in.
func settling(s batchtypes.CEStatus) bool {
	return s == batchtypes.CEStatusCreating || s == batchtypes.CEStatusUpdating || s == batchtypes.CEStatusDeleting
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

func (c *computeEnvironment) create(ctx context.Context) (Result, error) {
	p := c.p
	var res Result
	var last string
	err := waiter.Wait(ctx, "create compute environment "+p.names.ComputeEnvironment+" (waiting for IAM to propagate)", p.waitOptions(), func(ctx context.Context) (bool, error) {
		out, err := p.batch.CreateComputeEnvironment(ctx, c.createInput())
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
