package joblogs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/batchxray/batchxray/internal/jobs"
)

// LogsAPI is the one CloudWatch Logs call Read makes.
type LogsAPI interface {
	GetLogEvents(context.Context, *cloudwatchlogs.GetLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

// BatchAPI is what Read asks Batch: the job, its attempts and its state.
type BatchAPI = jobs.DescribeJobsAPI

// The real clients have every call this package makes.
var (
	_ LogsAPI  = (*cloudwatchlogs.Client)(nil)
	_ BatchAPI = (*batch.Client)(nil)
)
