package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// RunnableHint is how long a job may sit in RUNNABLE before batchxray
// explains why; on AWS a new instance takes a few minutes to join.
const RunnableHint = 90 * time.Second

// Explain says why a job waits in RUNNABLE, one finding a line: the queue
// or a compute environment that is not ENABLED and VALID (with Batch's
// statusReason), a compute environment at its maxvCpus, and a request for
// more vCPUs or memory than any instance type the compute environment
// allows. With nothing wrong it says that instances may still be starting.
func Explain(ctx context.Context, c ExplainAPI, j *Job) ([]string, error) {
	qs, err := c.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{j.Queue}})
	if err != nil {
		return nil, fmt.Errorf("describe job queue %q: %w", j.Queue, err)
	}
	if len(qs.JobQueues) == 0 {
		return []string{fmt.Sprintf("job queue %s no longer exists", j.Queue)}, nil
	}
	q := qs.JobQueues[0]
	var lines []string
	if q.State != types.JQStateEnabled || q.Status != types.JQStatusValid {
		lines = append(lines, withReason(fmt.Sprintf("job queue %s is %s and %s", j.Queue, q.State, q.Status), aws.ToString(q.StatusReason)))
	}
	var names []string
	for _, o := range q.ComputeEnvironmentOrder {
		names = append(names, aws.ToString(o.ComputeEnvironment))
	}
	if len(names) == 0 {
		return append(lines, fmt.Sprintf("job queue %s has no compute environment", j.Queue)), nil
	}
	ces, err := c.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: names})
	if err != nil {
		return nil, fmt.Errorf("describe compute environments of %q: %w", j.Queue, err)
	}
	healthy := 0
	for _, ce := range ces.ComputeEnvironments {
		name := aws.ToString(ce.ComputeEnvironmentName)
		if ce.State != types.CEStateEnabled || ce.Status != types.CEStatusValid {
			lines = append(lines, withReason(fmt.Sprintf("compute environment %s is %s and %s", name, ce.State, ce.Status), aws.ToString(ce.StatusReason)))
			continue
		}
		cr := ce.ComputeResources
		if cr == nil {
			healthy++
			continue
		}
		maxv, desired := aws.ToInt32(cr.MaxvCpus), aws.ToInt32(cr.DesiredvCpus)
		switch {
		case j.VCPUs > float64(maxv):
			lines = append(lines, fmt.Sprintf("compute environment %s allows at most %d vCPUs and the job asks for %s: it can never start there", name, maxv, fmtVCPUs(j.VCPUs)))
			continue
		case desired >= maxv:
			lines = append(lines, fmt.Sprintf("compute environment %s is full: desired %d of max %d vCPUs; the job starts when running jobs finish (or raise --max-vcpus with batchxray up)", name, desired, maxv))
		}
		if cr.Type == types.CRTypeEc2 || cr.Type == types.CRTypeSpot {
			if fits, known, largest := fitCheck(j.VCPUs, j.MemoryMiB, cr.InstanceTypes); known && !fits {
				lines = append(lines, fmt.Sprintf("the job asks for %s vCPUs and %d MiB, more than any instance type compute environment %s allows (%s; largest: %s): it can never start there", fmtVCPUs(j.VCPUs), j.MemoryMiB, name, strings.Join(cr.InstanceTypes, ", "), joinInstances(largest)))
				continue
			}
		}
		if desired < maxv {
			healthy++
			lines = append(lines, fmt.Sprintf("compute environment %s is ENABLED and VALID, desired %d of max %d vCPUs", name, desired, maxv))
		}
	}
	if healthy > 0 && len(lines) == healthy {
		lines = append(lines, "nothing is wrong that batchxray can see: new instances take a few minutes to start and join")
	}
	return lines, nil
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}

func fmtVCPUs(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func joinInstances(in []instance) string {
	s := make([]string, len(in))
	for i, x := range in {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}

// What an attempt whose host was terminated is called.
const (
	InterruptedSpot = "Spot interruption"
	InterruptedHost = "host terminated"
)

// hostTerminated reports whether Batch's reason for an attempt's end is
// that its host EC2 instance went away: "Host EC2 (instance i-…)
// terminated.", which on a SPOT compute environment is a Spot interruption.
func hostTerminated(reason string) bool {
	rest, ok := strings.CutPrefix(reason, "Host EC2 (instance ")
	return ok && strings.Contains(rest, ") terminated")
}

// NameInterruptions finds out, for the jobs with an attempt whose host was
// terminated, whether their queue runs on Spot: when every compute
// environment of the queue is SPOT the attempt is named a Spot
// interruption; otherwise (mixed, or the lookup failed) it stays "host
// terminated". Each queue is looked up once; a failed lookup is returned
// after every job was tried, and leaves the names as they were.
func NameInterruptions(ctx context.Context, c ExplainAPI, js []*Job) error {
	spot := map[string]bool{}
	var errs []error
	for _, j := range js {
		for i := range j.Attempts {
			a := &j.Attempts[i]
			if a.Interruption != InterruptedHost {
				continue
			}
			isSpot, ok := spot[j.Queue]
			if !ok {
				var err error
				if isSpot, err = queueOnSpot(ctx, c, j.Queue); err != nil {
					errs = append(errs, err)
				}
				spot[j.Queue] = isSpot
			}
			if isSpot {
				a.Interruption = InterruptedSpot
			}
		}
	}
	return errors.Join(errs...)
}

// queueOnSpot reports whether every compute environment of the queue is
// SPOT.
func queueOnSpot(ctx context.Context, c ExplainAPI, queue string) (bool, error) {
	qs, err := c.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{queue}})
	if err != nil || len(qs.JobQueues) == 0 {
		return false, err
	}
	var names []string
	for _, o := range qs.JobQueues[0].ComputeEnvironmentOrder {
		names = append(names, aws.ToString(o.ComputeEnvironment))
	}
	if len(names) == 0 {
		return false, nil
	}
	ces, err := c.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: names})
	if err != nil || len(ces.ComputeEnvironments) == 0 {
		return false, err
	}
	for _, ce := range ces.ComputeEnvironments {
		if ce.ComputeResources == nil || ce.ComputeResources.Type != types.CRTypeSpot {
			return false, nil
		}
	}
	return true, nil
}
