package jobs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/batch"
)

// DescribeJobsAPI is the one Batch call Describe needs; *batch.Client has it.
type DescribeJobsAPI interface {
	DescribeJobs(context.Context, *batch.DescribeJobsInput, ...func(*batch.Options)) (*batch.DescribeJobsOutput, error)
}

// WaitAPI is what Wait calls: DescribeJobs to follow the jobs, ListJobs to
// name the failed children of an array job.
type WaitAPI interface {
	DescribeJobsAPI
	ListJobs(context.Context, *batch.ListJobsInput, ...func(*batch.Options)) (*batch.ListJobsOutput, error)
}

// ExplainAPI is what Explain calls to say why a job waits in RUNNABLE.
type ExplainAPI interface {
	DescribeJobQueues(context.Context, *batch.DescribeJobQueuesInput, ...func(*batch.Options)) (*batch.DescribeJobQueuesOutput, error)
	DescribeComputeEnvironments(context.Context, *batch.DescribeComputeEnvironmentsInput, ...func(*batch.Options)) (*batch.DescribeComputeEnvironmentsOutput, error)
}

// SubmitAPI is what Submit calls: the stack's job definition, then SubmitJob.
type SubmitAPI interface {
	DescribeJobDefinitions(context.Context, *batch.DescribeJobDefinitionsInput, ...func(*batch.Options)) (*batch.DescribeJobDefinitionsOutput, error)
	SubmitJob(context.Context, *batch.SubmitJobInput, ...func(*batch.Options)) (*batch.SubmitJobOutput, error)
}

// The real client has every call this package makes.
var (
	_ WaitAPI    = (*batch.Client)(nil)
	_ ExplainAPI = (*batch.Client)(nil)
	_ SubmitAPI  = (*batch.Client)(nil)
)
