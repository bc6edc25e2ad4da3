package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/batchxray/batchxray/internal/jobs"
)

// ListJobsAPI is the Batch call List makes for what the events lack.
type ListJobsAPI interface {
	ListJobs(context.Context, *batch.ListJobsInput, ...func(*batch.Options)) (*batch.ListJobsOutput, error)
}

var _ ListJobsAPI = (*batch.Client)(nil)

// ListRequest says which of the stack's jobs List returns.
type ListRequest struct {
	// Group is the stack's job events log group, Queue its job queue.
	Group, Queue string
	// Since is the earliest creation time listed (zero: any).
	Since time.Time
	// Status, when set, keeps the jobs in that state only.
	Status jobs.State
	// NamePrefix, when set, keeps the jobs whose name starts with it.
	NamePrefix string
}

// Sources of a listed job.
const (
	SourceEvents   = "events"
	SourceListJobs = "ListJobs"
	SourceBoth     = "events+ListJobs"
)

// Entry is one job as `batchxray jobs` lists it.
type Entry struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Status    jobs.State `json:"status"`
	CreatedAt time.Time  `json:"createdAt,omitzero"`
	StartedAt time.Time  `json:"startedAt,omitzero"`
	StoppedAt time.Time  `json:"stoppedAt,omitzero"`
	// Reason is the latest statusReason the job had.
	Reason string `json:"statusReason,omitempty"`
	// Source says where the job was found: its recorded events, ListJobs
	// (Batch still knows it), or both.
	Source string `json:"source"`
}

// Listing is List's answer.
type Listing struct {
	Jobs []Entry `json:"jobs"`
	// EventsMissing says the stack has no job events log group (a stack
	// made before they were recorded): the jobs are only what Batch still
	// returns.
	EventsMissing bool `json:"eventsMissing,omitempty"`
}

// listed is the part of an event's detail a listing uses.
type listed struct {
	event
	Detail struct {
		JobID        string `json:"jobId"`
		JobName      string `json:"jobName"`
		JobQueue     string `json:"jobQueue"`
		Status       string `json:"status"`
		StatusReason string `json:"statusReason"`
		CreatedAt    int64  `json:"createdAt"`
		StartedAt    int64  `json:"startedAt"`
		StoppedAt    int64  `json:"stoppedAt"`
	} `json:"detail"`
}

// List returns the stack's jobs created since r.Since, newest first: every
// job its events log group recorded, including those Batch no longer
// returns, merged with what ListJobs says of the jobs Batch still knows
// (its word is the newer: events arrive late, and none is sent for
// SUBMITTED). Array children are left out; their parent stands for them.
func List(ctx context.Context, lc LogsAPI, bc ListJobsAPI, r ListRequest) (Listing, error) {
	var out Listing
	byID := map[string]*Entry{}
	if err := readAll(ctx, lc, r, byID); err != nil {
		var missing *types.ResourceNotFoundException
		if !errors.As(err, &missing) {
			return Listing{}, err
		}
		out.EventsMissing = true
	}
	if err := listBatch(ctx, bc, r, byID); err != nil {
		return Listing{}, err
	}
	for _, e := range byID {
		if keep(*e, r) {
			out.Jobs = append(out.Jobs, *e)
		}
	}
	slices.SortFunc(out.Jobs, func(a, b Entry) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if out.Jobs == nil {
		out.Jobs = []Entry{}
	}
	return out, nil
}

// readAll reads every job event of the stack's queue since r.Since, the
// latest state of each job winning.
func readAll(ctx context.Context, lc LogsAPI, r ListRequest, byID map[string]*Entry) error {
	in := &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName:  aws.String(r.Group),
		FilterPattern: aws.String(`"Batch Job State Change"`),
	}
	if !r.Since.IsZero() {
		in.StartTime = aws.Int64(r.Since.Add(-slack).UnixMilli())
	}
	latest := map[string]Change{}
	return scan(ctx, lc, in, "read the job events in "+r.Group, func(base event, msg string) {
		var ev listed
		if json.Unmarshal([]byte(msg), &ev) != nil {
			return
		}
		d := ev.Detail
		if strings.Contains(d.JobID, ":") || (r.Queue != "" && nameOf(d.JobQueue) != r.Queue) {
			return
		}
		c := change(base, msg)
		if prev, ok := latest[d.JobID]; ok && (c.At.Before(prev.At) || (c.At.Equal(prev.At) && order(c.State) < order(prev.State))) {
			return
		}
		latest[d.JobID] = c
		byID[d.JobID] = &Entry{
			ID: d.JobID, Name: d.JobName, Status: jobs.State(d.Status), Reason: d.StatusReason,
			CreatedAt: millis(d.CreatedAt), StartedAt: millis(d.StartedAt), StoppedAt: millis(d.StoppedAt),
			Source: SourceEvents,
		}
	})
}

// listBatch merges in the queue's jobs Batch still returns. With a filter
// ListJobs lists every status at once.
func listBatch(ctx context.Context, bc ListJobsAPI, r ListRequest, byID map[string]*Entry) error {
	since := "0"
	if !r.Since.IsZero() {
		since = strconv.FormatInt(r.Since.UnixMilli(), 10)
	}
	pages := batch.NewListJobsPaginator(bc, &batch.ListJobsInput{
		JobQueue: aws.String(r.Queue),
		Filters:  []batchtypes.KeyValuesPair{{Name: aws.String("AFTER_CREATED_AT"), Values: []string{since}}},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list the jobs of %s: %w", r.Queue, err)
		}
		for _, s := range page.JobSummaryList {
			id := aws.ToString(s.JobId)
			e := &Entry{
				ID: id, Name: aws.ToString(s.JobName), Status: jobs.State(s.Status), Reason: aws.ToString(s.StatusReason),
				CreatedAt: millisPtr(s.CreatedAt), StartedAt: millisPtr(s.StartedAt), StoppedAt: millisPtr(s.StoppedAt),
				Source: SourceListJobs,
			}
			if prev, ok := byID[id]; ok {
				e.Source = SourceBoth
				if e.Reason == "" {
					e.Reason = prev.Reason
				}
			}
			byID[id] = e
		}
	}
	return nil
}

func keep(e Entry, r ListRequest) bool {
	switch {
	case r.Status != "" && e.Status != r.Status:
		return false
	case r.NamePrefix != "" && !strings.HasPrefix(e.Name, r.NamePrefix):
		return false
	case !r.Since.IsZero() && !e.CreatedAt.IsZero() && e.CreatedAt.Before(r.Since):
		return false
	}
	return true
}

// Duration is how long the job ran: from its start to its stop, or to now
// while it runs; zero when it has not started.
func (e Entry) Duration(now time.Time) time.Duration {
	switch {
	case e.StartedAt.IsZero():
		return 0
	case !e.StoppedAt.IsZero():
		return e.StoppedAt.Sub(e.StartedAt)
	}
	return now.Sub(e.StartedAt)
}

func nameOf(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func millisPtr(ms *int64) time.Time { return millis(aws.ToInt64(ms)) }
