package jobs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// MaxDescribe is how many job IDs one DescribeJobs call takes.
const MaxDescribe = 100

// NotFoundError names the job IDs Batch does not know.
type NotFoundError struct {
	IDs []string
}

func (e *NotFoundError) Error() string {
	noun := "job"
	if len(e.IDs) > 1 {
		noun = "jobs"
	}
	return fmt.Sprintf("%s not found: %s (Batch forgets finished jobs after a while: batchxray jobs still lists them from the job events; check the ID and --region)", noun, strings.Join(e.IDs, ", "))
}

// NotFound marks the error for exit code 4.
func (e *NotFoundError) NotFound() bool { return true }

// Describe looks up jobs by ID, MaxDescribe IDs a call. The details come
// back in the order of ids (duplicates once); IDs Batch does not know are
// returned as unknown rather than as an error, so the caller can report
// them by name and still show the others.
func Describe(ctx context.Context, c DescribeJobsAPI, ids []string) (found []types.JobDetail, unknown []string, err error) {
	ids = dedupe(ids)
	byID := make(map[string]types.JobDetail, len(ids))
	for start := 0; start < len(ids); start += MaxDescribe {
		chunk := ids[start:min(start+MaxDescribe, len(ids))]
		out, err := c.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: chunk})
		if err != nil {
			return nil, nil, fmt.Errorf("describe jobs: %w", err)
		}
		for _, d := range out.Jobs {
			byID[aws.ToString(d.JobId)] = d
			// A job asked for by ARN comes back under its ID.
			byID[aws.ToString(d.JobArn)] = d
		}
	}
	found = make([]types.JobDetail, 0, len(ids))
	for _, id := range ids {
		if d, ok := byID[id]; ok {
			found = append(found, d)
		} else {
			unknown = append(unknown, id)
		}
	}
	return found, unknown, nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// FailedChildren lists the children of an array job that FAILED.
func FailedChildren(ctx context.Context, c WaitAPI, parentID string) ([]FailedChild, error) {
	var out []FailedChild
	pages := batch.NewListJobsPaginator(c, &batch.ListJobsInput{ArrayJobId: aws.String(parentID), JobStatus: types.JobStatusFailed})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list failed children of %s: %w", parentID, err)
		}
		for _, s := range page.JobSummaryList {
			ch := FailedChild{ID: aws.ToString(s.JobId), StatusReason: aws.ToString(s.StatusReason)}
			if s.ArrayProperties != nil && s.ArrayProperties.Index != nil {
				ch.Index = int(*s.ArrayProperties.Index)
			} else if _, idx, ok := strings.Cut(ch.ID, ":"); ok {
				ch.Index, _ = strconv.Atoi(idx)
			}
			if s.Container != nil {
				ch.ExitCode = intPtr(s.Container.ExitCode)
			}
			out = append(out, ch)
		}
	}
	slices.SortFunc(out, func(a, b FailedChild) int { return a.Index - b.Index })
	return out, nil
}

func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
