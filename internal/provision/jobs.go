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

// Job is a job in the stack's queue that has not ended.
type Job struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// activeStatuses are the states of a job that has not ended. Deleting the
// queue would fail such jobs silently: Down terminates them first.
var activeStatuses = []batchtypes.JobStatus{
	batchtypes.JobStatusRunning, batchtypes.JobStatusStarting, batchtypes.JobStatusRunnable,
	batchtypes.JobStatusPending, batchtypes.JobStatusSubmitted,
}

// ActiveJobs lists the jobs in the stack's queue that have not ended
// (array jobs as their parent), none when there is no queue. down shows
// them before it asks.
func (p *Provisioner) ActiveJobs(ctx context.Context) ([]Job, error) {
	q, err := p.describeQueue(ctx)
	if err != nil || q == nil || q.Status == batchtypes.JQStatusDeleted || !p.owned(q.Tags) {
		return nil, err
	}
	// One call lists one state, and a job moves on meanwhile: listed from
	// the first state to the last, a job that moves is met again further
	// on (and kept once, as last seen), where listed from the last to the
	// first it could be missed.
	var jobs []Job
	at := map[string]int{}
	for _, st := range slices.Backward(activeStatuses) {
		pages := batch.NewListJobsPaginator(p.batch, &batch.ListJobsInput{JobQueue: aws.String(p.names.JobQueue), JobStatus: st})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list %s jobs: %w", st, err)
			}
			for _, j := range page.JobSummaryList {
				job := Job{ID: aws.ToString(j.JobId), Name: aws.ToString(j.JobName), Status: string(j.Status)}
				if i, ok := at[job.ID]; ok {
					jobs[i] = job
					continue
				}
				at[job.ID] = len(jobs)
				jobs = append(jobs, job)
			}
		}
	}
	// Shown furthest along first.
	rank := func(j Job) int { return slices.Index(activeStatuses, batchtypes.JobStatus(j.Status)) }
	slices.SortStableFunc(jobs, func(a, b Job) int { return rank(a) - rank(b) })
	return jobs, nil
}

// terminateJobs terminates the queue's jobs that have not ended and waits
// until they have, returning how many it terminated.
func (p *Provisioner) terminateJobs(ctx context.Context) (int, error) {
	jobs, err := p.ActiveJobs(ctx)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	for _, j := range jobs {
		if _, err := p.batch.TerminateJob(ctx, &batch.TerminateJobInput{JobId: aws.String(j.ID), Reason: aws.String("batchxray down: the stack is being deleted")}); err != nil {
			return 0, fmt.Errorf("terminate job %s: %w", j.ID, err)
		}
	}
	err = waiter.Wait(ctx, fmt.Sprintf("wait for %d terminated jobs to end", len(jobs)), p.waitOptions(), func(ctx context.Context) (bool, error) {
		left, err := p.ActiveJobs(ctx)
		return err == nil && len(left) == 0, err
	})
	return len(jobs), err
}
