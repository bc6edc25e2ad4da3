package report

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/events"
	"golang.org/x/sync/errgroup"
)

// BatchAPI is the Batch calls Gather makes; *batch.Client has them.
type BatchAPI interface {
	ListJobs(context.Context, *batch.ListJobsInput, ...func(*batch.Options)) (*batch.ListJobsOutput, error)
	DescribeJobs(context.Context, *batch.DescribeJobsInput, ...func(*batch.Options)) (*batch.DescribeJobsOutput, error)
}

// XRayAPI is the X-Ray calls Gather makes through traces.Finder;
// *xray.Client has them.
type XRayAPI interface {
	GetTraceSummaries(context.Context, *xray.GetTraceSummariesInput, ...func(*xray.Options)) (*xray.GetTraceSummariesOutput, error)
	BatchGetTraces(context.Context, *xray.BatchGetTracesInput, ...func(*xray.Options)) (*xray.BatchGetTracesOutput, error)
	GetTraceSegmentDestination(context.Context, *xray.GetTraceSegmentDestinationInput, ...func(*xray.Options)) (*xray.GetTraceSegmentDestinationOutput, error)
	GetIndexingRules(context.Context, *xray.GetIndexingRulesInput, ...func(*xray.Options)) (*xray.GetIndexingRulesOutput, error)
	StartTraceRetrieval(context.Context, *xray.StartTraceRetrievalInput, ...func(*xray.Options)) (*xray.StartTraceRetrievalOutput, error)
	ListRetrievedTraces(context.Context, *xray.ListRetrievedTracesInput, ...func(*xray.Options)) (*xray.ListRetrievedTracesOutput, error)
}

var (
	_ BatchAPI = (*batch.Client)(nil)
	_ XRayAPI  = (*xray.Client)(nil)
)

// Limits of the APIs and defaults of the Gatherer.
const (
	// MaxDescribe is how many job IDs one DescribeJobs call takes.
	MaxDescribe = 100
	// DefaultConcurrency bounds the calls in flight.
	DefaultConcurrency = 8
	// perJobSearch is how many jobs without a trace ID are searched for
	// one by one (annotation.job_id); past it, one search over the queue
	// and the window finds them all in fewer calls.
	perJobSearch = 20
)

// Request says which jobs to report on: Jobs by ID (array parents stand
// for their children), or else the queue's jobs created in [Since, Until].
// NamePrefix and Statuses narrow either.
type Request struct {
	Queue        string
	Since, Until time.Time
	Jobs         []string
	NamePrefix   string
	Statuses     []string
}

// Progress is told what Gather is doing; *ui.Progress is one.
type Progress interface {
	Start(label string)
	End(label string)
	Done(label, line string)
}

// Gatherer gathers a report's input from Batch and X-Ray.
type Gatherer struct {
	Batch BatchAPI
	XRay  XRayAPI
	Clock clockwork.Clock
	// Concurrency bounds the calls in flight (DefaultConcurrency if 0).
	Concurrency int
	// Logs and EventsGroup, when set, are where the stack records its
	// jobs' events (events.GroupFor): the jobs' transitions, and the jobs
	// Batch no longer returns, are read from there.
	Logs        events.LogsAPI
	EventsGroup string
	// Progress, when set, is told each step.
	Progress Progress
	// searchEach overrides perJobSearch in tests.
	searchEach int
}

// Gather lists and describes the jobs asked for, then finds their traces:
// by the ID a job carries, else by searching X-Ray. A trace it cannot find
// is no error: the job is reported without one.
func (g *Gatherer) Gather(ctx context.Context, req Request) (Input, error) {
	in := Input{}
	if len(req.Jobs) == 0 {
		in.From, in.To = req.Since, req.Until
	}
	named, ids, parents, unknown, err := g.jobIDs(ctx, req)
	if err != nil {
		return Input{}, err
	}
	in.Arrays = len(parents)
	details, err := g.describe(ctx, ids)
	if err != nil {
		return Input{}, err
	}
	for _, d := range slices.Concat(named, details) {
		if IsArrayParent(d) {
			continue
		}
		j := FromDetail(d)
		if keep(req, j) {
			in.Jobs = append(in.Jobs, j)
		}
	}
	// A job Batch does not return may be one it has forgotten, which the
	// recorded events still know: not found is what neither knows.
	if unknown, err = g.withEvents(ctx, req, &in, parents, unknown); err != nil {
		return Input{}, err
	}
	if len(unknown) > 0 {
		return Input{}, &NotFoundError{IDs: unknown, EventsGroup: in.Source.EventsGroup, Unread: in.Source.Unread}
	}
	slices.SortFunc(in.Jobs, func(a, b Job) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if in.Traces, err = g.traces(ctx, req, in.Jobs); err != nil {
		return Input{}, err
	}
	return in, nil
}

func keep(req Request, j Job) bool {
	if !strings.HasPrefix(j.Name, req.NamePrefix) {
		return false
	}
	return len(req.Statuses) == 0 || slices.Contains(req.Statuses, j.Status)
}

func (g *Gatherer) limit() int { return max(g.Concurrency, 1) }

func (g *Gatherer) step(label string) func(line string) {
	if g.Progress == nil {
		return func(string) {}
	}
	g.Progress.Start(label)
	return func(line string) { g.Progress.Done(label, line) }
}

// jobIDs finds the jobs to report on: the named jobs, already described,
// or the IDs of the queue's jobs in the window, with the IDs of every array
// parent's children in place of the parent; parents are the array
// parents Batch returned, unknown the named IDs it does not return.
func (g *Gatherer) jobIDs(ctx context.Context, req Request) (named []btypes.JobDetail, ids, parents, unknown []string, err error) {
	if len(req.Jobs) > 0 {
		details, err := g.describe(ctx, req.Jobs)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		found := map[string]bool{}
		for _, d := range details {
			found[aws.ToString(d.JobId)] = true
			found[aws.ToString(d.JobArn)] = true
			if IsArrayParent(d) {
				parents = append(parents, aws.ToString(d.JobId))
			} else {
				named = append(named, d)
			}
		}
		for _, id := range req.Jobs {
			if !found[id] {
				unknown = append(unknown, id)
			}
		}
	} else {
		done := g.step(fmt.Sprintf("listing the jobs of %s", req.Queue))
		sums, err := listJobs(ctx, g.Batch, &batch.ListJobsInput{
			JobQueue: aws.String(req.Queue),
			// A filter makes ListJobs list every status at once.
			Filters: []btypes.KeyValuesPair{{Name: aws.String("AFTER_CREATED_AT"), Values: []string{strconv.FormatInt(req.Since.UnixMilli()-1, 10)}}},
		})
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("list the jobs of queue %s: %w", req.Queue, err)
		}
		for _, s := range sums {
			if !req.Until.IsZero() && aws.ToInt64(s.CreatedAt) > req.Until.UnixMilli() {
				continue
			}
			if s.ArrayProperties != nil && s.ArrayProperties.Size != nil {
				parents = append(parents, aws.ToString(s.JobId))
				continue
			}
			if strings.HasPrefix(aws.ToString(s.JobName), req.NamePrefix) {
				ids = append(ids, aws.ToString(s.JobId))
			}
		}
		done(fmt.Sprintf("listed %s in %s", plural(len(sums), "job"), req.Queue))
	}
	var mu sync.Mutex
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(g.limit())
	for _, p := range parents {
		eg.Go(func() error {
			sums, err := listJobs(ctx, g.Batch, &batch.ListJobsInput{
				ArrayJobId: aws.String(p),
				Filters:    []btypes.KeyValuesPair{{Name: aws.String("AFTER_CREATED_AT"), Values: []string{"0"}}},
			})
			if err != nil {
				return fmt.Errorf("list the children of array job %s: %w", p, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range sums {
				ids = append(ids, aws.ToString(s.JobId))
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, nil, nil, err
	}
	return named, ids, parents, unknown, nil
}

func listJobs(ctx context.Context, c BatchAPI, in *batch.ListJobsInput) ([]btypes.JobSummary, error) {
	var out []btypes.JobSummary
	pages := batch.NewListJobsPaginator(c, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.JobSummaryList...)
	}
	return out, nil
}

// describe describes jobs MaxDescribe a call, concurrently with a bound,
// in the order of ids.
func (g *Gatherer) describe(ctx context.Context, ids []string) ([]btypes.JobDetail, error) {
	calls := (len(ids) + MaxDescribe - 1) / MaxDescribe
	chunks := make([][]btypes.JobDetail, calls)
	label := fmt.Sprintf("describing %s", plural(len(ids), "job"))
	done := g.step(label)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(g.limit())
	for i := range calls {
		chunk := ids[i*MaxDescribe : min((i+1)*MaxDescribe, len(ids))]
		eg.Go(func() error {
			out, err := g.Batch.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: chunk})
			if err != nil {
				return fmt.Errorf("describe jobs: %w", err)
			}
			chunks[i] = out.Jobs
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	done(fmt.Sprintf("described %s in %s", plural(len(ids), "job"), plural(calls, "call")))
	return slices.Concat(chunks...), nil
}

// NotFoundError names job IDs that neither Batch nor the stack's recorded
// job events know.
type NotFoundError struct {
	IDs []string
	// EventsGroup is the events log group that was read, "" if none was.
	EventsGroup string
	// Unread, when set, is why the events could not be read.
	Unread string
}

func (e *NotFoundError) Error() string {
	ids := strings.Join(e.IDs, ", ")
	switch {
	case e.EventsGroup == "":
		return fmt.Sprintf("not found: %s (Batch forgets finished jobs after a while; check the IDs and --region)", ids)
	case e.Unread != "":
		return fmt.Sprintf("not found: %s (Batch forgets finished jobs after a while, and the job events could not be read: %s)", ids, e.Unread)
	}
	return fmt.Sprintf("not found: %s (neither Batch nor the job events in %s know it; check the IDs and --region)", ids, e.EventsGroup)
}

// NotFound marks the error for exit code 4.
func (e *NotFoundError) NotFound() bool { return true }
