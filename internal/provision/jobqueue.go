package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/waiter"
)

// jobQueue is the job queue in front of the compute environment.
type jobQueue struct {
	done
	p  *Provisioner
	ce *computeEnvironment

	found *batchtypes.JobQueueDetail // what plan or find found
	upd   *batch.UpdateJobQueueInput // what plan would change
}

func (q *jobQueue) kind() string { return "job queue" }
func (q *jobQueue) name() string { return q.p.names.JobQueue }

func (q *jobQueue) order() []batchtypes.ComputeEnvironmentOrder {
	return []batchtypes.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(q.ce.out.ARN)}}
}

// plan waits out a queue another up or a down is at work on (CREATING,
// UPDATING, DELETING) before it judges it.
func (q *jobQueue) plan(ctx context.Context) (Result, error) {
	p := q.p
	jq, err := p.describeQueue(ctx)
	if err != nil {
		return Result{}, err
	}
	if jq != nil && (jq.Status == batchtypes.JQStatusCreating || jq.Status == batchtypes.JQStatusUpdating || jq.Status == batchtypes.JQStatusDeleting) {
		if jq, err = p.waitQueueSettled(ctx); err != nil {
			return Result{}, err
		}
	}
	if jq == nil || jq.Status == batchtypes.JQStatusDeleted {
		q.found = nil
		return Result{Action: Create}, nil
	}
	q.found = jq
	if !p.owned(jq.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"job queue", p.names.JobQueue, p.names.Stack}
	}
	res := Result{Action: Unchanged, ARN: aws.ToString(jq.JobQueueArn)}
	upd := &batch.UpdateJobQueueInput{JobQueue: jq.JobQueueArn}
	var what []string
	if jq.State != batchtypes.JQStateEnabled {
		upd.State, what = batchtypes.JQStateEnabled, append(what, "enable")
	}
	if len(jq.ComputeEnvironmentOrder) != 1 || aws.ToString(jq.ComputeEnvironmentOrder[0].ComputeEnvironment) != q.ce.out.ARN {
		upd.ComputeEnvironmentOrder, what = q.order(), append(what, "compute environment")
	}
	if len(what) == 0 {
		return res, nil
	}
	q.upd = upd
	res.Action, res.Detail = Update, strings.Join(what, ", ")
	return res, nil
}

// apply creates or updates the queue, and waits for it to be VALID.
func (q *jobQueue) apply(ctx context.Context) (Result, error) {
	p := q.p
	if q.found == nil {
		out, err := p.batch.CreateJobQueue(ctx, &batch.CreateJobQueueInput{
			JobQueueName:            aws.String(p.names.JobQueue),
			Priority:                aws.Int32(1),
			State:                   batchtypes.JQStateEnabled,
			ComputeEnvironmentOrder: q.order(),
			Tags:                    p.stackTags(),
		})
		if err != nil {
			return Result{}, fmt.Errorf("create: %w", err)
		}
		return p.settleQueue(ctx, Result{Action: Create, ARN: aws.ToString(out.JobQueueArn)})
	}
	if _, err := p.batch.UpdateJobQueue(ctx, q.upd); err != nil {
		return Result{}, fmt.Errorf("update: %w", err)
	}
	return p.settleQueue(ctx, q.out)
}

func (q *jobQueue) find(ctx context.Context) (Result, error) {
	p := q.p
	jq, err := p.describeQueue(ctx)
	if err != nil {
		return Result{}, err
	}
	if jq == nil || jq.Status == batchtypes.JQStatusDeleted {
		return Result{Action: Absent}, nil
	}
	q.found = jq
	if !p.owned(jq.Tags) {
		return Result{Action: NotOurs}, &NotOursError{"job queue", p.names.JobQueue, p.names.Stack}
	}
	return Result{Action: Delete, ARN: aws.ToString(jq.JobQueueArn)}, nil
}

// delete disables the queue, terminates the jobs in it that have not
// ended and waits for them to end (deleting the queue would fail them
// silently), then deletes the queue and waits it out.
func (q *jobQueue) delete(ctx context.Context) (Result, error) {
	p, jq := q.p, q.found
	res := q.out
	if jq.Status != batchtypes.JQStatusDeleting {
		if jq.State != batchtypes.JQStateDisabled {
			if _, err := p.batch.UpdateJobQueue(ctx, &batch.UpdateJobQueueInput{JobQueue: jq.JobQueueArn, State: batchtypes.JQStateDisabled}); err != nil {
				return Result{}, fmt.Errorf("disable: %w", err)
			}
		}
		if _, err := p.waitQueueSettled(ctx); err != nil {
			return Result{}, err
		}
		n, err := p.terminateJobs(ctx)
		if err != nil {
			return Result{}, err
		}
		if n > 0 {
			res.Detail = fmt.Sprintf("%d %s terminated", n, plural(n, "job", "jobs"))
		}
		if _, err := p.batch.DeleteJobQueue(ctx, &batch.DeleteJobQueueInput{JobQueue: jq.JobQueueArn}); err != nil {
			return Result{}, fmt.Errorf("delete: %w", err)
		}
	}
	err := waiter.Wait(ctx, "wait for job queue "+p.names.JobQueue+" to be deleted", p.waitOptions(), func(ctx context.Context) (bool, error) {
		jq, err := p.describeQueue(ctx)
		return err == nil && (jq == nil || jq.Status == batchtypes.JQStatusDeleted), err
	})
	return res, err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
