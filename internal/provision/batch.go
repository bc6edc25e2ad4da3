package provision

import (
	"context"
	"fmt"
	"slices"

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

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}
