package batch

import (
	"slices"
	"time"
)

type jobQueue struct {
	d     jobQueueDetail
	until time.Time
}

func (q *jobQueue) usable() bool { return q.d.State == stateEnabled && q.d.Status == statusValid }

func (s *Service) findQueue(nameOrARN string) *jobQueue {
	if q, ok := s.queues[nameOrARN]; ok {
		return q
	}
	for _, q := range s.queues {
		if q.d.JobQueueArn == nameOrARN {
			return q
		}
	}
	return nil
}

type createJobQueueInput struct {
	JobQueueName            string                    `json:"jobQueueName"`
	State                   string                    `json:"state"`
	Priority                *int32                    `json:"priority"`
	ComputeEnvironmentOrder []computeEnvironmentOrder `json:"computeEnvironmentOrder"`
	Tags                    map[string]string         `json:"tags"`
}

// resolveOrder checks a queue's compute environments as CreateJobQueue and
// UpdateJobQueue do, and names each by its ARN.
func (s *Service) resolveOrder(order []computeEnvironmentOrder) ([]computeEnvironmentOrder, error) {
	if len(order) == 0 {
		return nil, clientError("computeEnvironmentOrder must contain at least one compute environment")
	}
	if len(order) > 3 {
		return nil, clientError("A job queue can have at most 3 compute environments")
	}
	out := make([]computeEnvironmentOrder, 0, len(order))
	seen := map[int32]bool{}
	for _, o := range order {
		ce := s.findCE(o.ComputeEnvironment)
		if ce == nil || ce.d.Status == statusDeleting {
			return nil, clientError("computeEnvironment %s does not exist", o.ComputeEnvironment)
		}
		if ce.d.Status != statusValid {
			return nil, clientError("computeEnvironment %s is not in VALID state, it is %s", ce.d.ComputeEnvironmentName, ce.d.Status)
		}
		if ce.d.State != stateEnabled {
			return nil, clientError("computeEnvironment %s is not ENABLED", ce.d.ComputeEnvironmentName)
		}
		if seen[o.Order] {
			return nil, clientError("computeEnvironmentOrder has two compute environments with order %d", o.Order)
		}
		seen[o.Order] = true
		out = append(out, computeEnvironmentOrder{Order: o.Order, ComputeEnvironment: ce.d.ComputeEnvironmentArn})
	}
	slices.SortFunc(out, func(a, b computeEnvironmentOrder) int { return int(a.Order - b.Order) })
	return out, nil
}

func (s *Service) createJobQueue(in *createJobQueueInput) (any, error) {
	if !namePattern().MatchString(in.JobQueueName) {
		return nil, clientError("jobQueueName must be 1 to 128 characters long and contain only letters, numbers, hyphens (-) and underscores (_)")
	}
	if in.Priority == nil {
		return nil, clientError("priority must be specified")
	}
	if *in.Priority < 0 || *in.Priority > 1000 {
		return nil, clientError("priority must be between 0 and 1000")
	}
	if in.State == "" {
		in.State = stateEnabled
	}
	if !validState(in.State) {
		return nil, clientError("state must be ENABLED or DISABLED")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if _, ok := s.queues[in.JobQueueName]; ok {
		return nil, clientError("Object already exists")
	}
	order, err := s.resolveOrder(in.ComputeEnvironmentOrder)
	if err != nil {
		return nil, err
	}
	q := &jobQueue{
		d: jobQueueDetail{
			JobQueueName:            in.JobQueueName,
			JobQueueArn:             s.arn("job-queue/" + in.JobQueueName),
			State:                   in.State,
			Status:                  statusCreating,
			StatusReason:            "Creating job queue",
			Priority:                *in.Priority,
			ComputeEnvironmentOrder: order,
			Tags:                    in.Tags,
			JobQueueType:            "ECS",
		},
		until: s.env.Clock.Now().Add(s.cfg.ResourceDelay),
	}
	s.queues[in.JobQueueName] = q
	return map[string]string{"jobQueueName": q.d.JobQueueName, "jobQueueArn": q.d.JobQueueArn}, nil
}

func (s *Service) settleQueue(q *jobQueue, now time.Time) {
	if now.Before(q.until) {
		return
	}
	switch q.d.Status {
	case statusCreating, statusUpdating:
		q.d.Status = statusValid
		q.d.StatusReason = "JobQueue Healthy"
	case statusDeleting:
		// "All jobs in the queue are eventually terminated when you delete
		// a job queue" (AWS Batch API Reference, DeleteJobQueue): a running
		// job's process is killed with it, and the job stays FAILED
		// whatever the process's end says.
		for _, j := range s.order {
			if j.queue == q && !j.terminal() {
				if p := j.proc; p != nil {
					j.proc = nil
					p.kill()
				}
				s.fail(j, now, "Job queue deleted")
			}
		}
		delete(s.queues, q.d.JobQueueName)
	}
}

type describeJobQueuesInput struct {
	JobQueues  []string `json:"jobQueues"`
	MaxResults int32    `json:"maxResults"`
	NextToken  string   `json:"nextToken"`
}

func (s *Service) describeJobQueues(in *describeJobQueuesInput) (any, error) {
	if len(in.JobQueues) > 100 {
		return nil, clientError("jobQueues can list at most 100 job queues")
	}
	var all []jobQueueDetail
	for _, q := range sortedByName(s.queues, func(q *jobQueue) string { return q.d.JobQueueName }) {
		if len(in.JobQueues) > 0 && !slices.Contains(in.JobQueues, q.d.JobQueueName) && !slices.Contains(in.JobQueues, q.d.JobQueueArn) {
			continue
		}
		all = append(all, q.d)
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		JobQueues []jobQueueDetail `json:"jobQueues"`
		NextToken string           `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type updateJobQueueInput struct {
	JobQueue                string                    `json:"jobQueue"`
	State                   string                    `json:"state"`
	Priority                *int32                    `json:"priority"`
	ComputeEnvironmentOrder []computeEnvironmentOrder `json:"computeEnvironmentOrder"`
}

func (s *Service) updateJobQueue(in *updateJobQueueInput) (any, error) {
	if in.State != "" && !validState(in.State) {
		return nil, clientError("state must be ENABLED or DISABLED")
	}
	if in.Priority != nil && (*in.Priority < 0 || *in.Priority > 1000) {
		return nil, clientError("priority must be between 0 and 1000")
	}
	q := s.findQueue(in.JobQueue)
	if q == nil || q.d.Status == statusDeleting {
		return nil, clientError("JobQueue %s does not exist", in.JobQueue)
	}
	if q.d.Status != statusValid && q.d.Status != statusInvalid {
		return nil, clientError("Cannot update job queue %s while it is %s", q.d.JobQueueName, q.d.Status)
	}
	if in.ComputeEnvironmentOrder != nil {
		order, err := s.resolveOrder(in.ComputeEnvironmentOrder)
		if err != nil {
			return nil, err
		}
		q.d.ComputeEnvironmentOrder = order
	}
	if in.Priority != nil {
		q.d.Priority = *in.Priority
	}
	if in.State != "" {
		q.d.State = in.State
	}
	q.d.Status = statusUpdating
	q.d.StatusReason = "Updating job queue"
	q.until = s.env.Clock.Now().Add(s.cfg.ResourceDelay)
	return map[string]string{"jobQueueName": q.d.JobQueueName, "jobQueueArn": q.d.JobQueueArn}, nil
}

type deleteJobQueueInput struct {
	JobQueue string `json:"jobQueue"`
}

func (s *Service) deleteJobQueue(in *deleteJobQueueInput) (any, error) {
	q := s.findQueue(in.JobQueue)
	if q == nil {
		return nil, clientError("JobQueue %s does not exist", in.JobQueue)
	}
	if q.d.Status == statusDeleting {
		return struct{}{}, nil
	}
	if q.d.State != stateDisabled {
		return nil, clientError("Cannot delete, job queue %s must be DISABLED first (its state is %s)", q.d.JobQueueName, q.d.State)
	}
	if q.d.Status != statusValid && q.d.Status != statusInvalid {
		return nil, clientError("Cannot delete job queue %s while it is %s", q.d.JobQueueName, q.d.Status)
	}
	q.d.Status = statusDeleting
	q.d.StatusReason = "Deleting job queue"
	q.until = s.env.Clock.Now().Add(s.cfg.ResourceDelay)
	return struct{}{}, nil
}
