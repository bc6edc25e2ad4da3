package traces

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/waiter"
)

// The X-Ray calls the Finder makes, each on its own so a fake implements
// only what a test scripts.
type (
	summariesAPI interface {
		GetTraceSummaries(ctx context.Context, in *xray.GetTraceSummariesInput, opts ...func(*xray.Options)) (*xray.GetTraceSummariesOutput, error)
	}
	batchAPI interface {
		BatchGetTraces(ctx context.Context, in *xray.BatchGetTracesInput, opts ...func(*xray.Options)) (*xray.BatchGetTracesOutput, error)
	}
	destinationAPI interface {
		GetTraceSegmentDestination(ctx context.Context, in *xray.GetTraceSegmentDestinationInput, opts ...func(*xray.Options)) (*xray.GetTraceSegmentDestinationOutput, error)
	}
	xrayAPI interface {
		summariesAPI
		batchAPI
		destinationAPI
		retrievalAPI
		GetIndexingRules(ctx context.Context, in *xray.GetIndexingRulesInput, opts ...func(*xray.Options)) (*xray.GetIndexingRulesOutput, error)
	}
)

var _ xrayAPI = (*xray.Client)(nil)

// Limits of the X-Ray API and defaults of the Finder.
const (
	// MaxWindow is the longest time range one GetTraceSummaries call may
	// cover (AWS-NOTES: 24 hours, unconfirmed, so we never ask for more).
	MaxWindow = 24 * time.Hour
	// BatchSize is how many trace IDs one BatchGetTraces call takes.
	BatchSize = 5

	DefaultMargin      = 5 * time.Minute
	DefaultConcurrency = 4
	DefaultMinDelay    = time.Second
	DefaultMaxDelay    = 10 * time.Second
	DefaultRetries     = 5
	// DefaultIndexingGrace is how long after a job stopped an empty result
	// is put down to indexing rather than to a job that sent nothing.
	DefaultIndexingGrace = 2 * time.Minute
)

// Finder finds the traces of a Batch job in X-Ray: GetTraceSummaries on the
// job's annotation over windows around its lifetime, then BatchGetTraces on
// what it found, concurrently with a bound, retrying throttling.
type Finder struct {
	client xrayAPI
	clock  clockwork.Clock
	// sleep waits on the clock; tests replace it to record the waits.
	sleep func(ctx context.Context, d time.Duration) error

	// Margin widens the window before the job's creation and after its
	// stop, for clock skew and late flushes.
	Margin time.Duration
	// Concurrency bounds the BatchGetTraces calls in flight.
	Concurrency int
	// MinDelay and MaxDelay bound the backoff, both while waiting for
	// traces to appear and after throttling.
	MinDelay, MaxDelay time.Duration
	// Retries is how many times a throttled call is tried again.
	Retries int
	// IndexingGrace: see DefaultIndexingGrace.
	IndexingGrace time.Duration
}

// NewFinder returns a Finder with the defaults. client is an *xray.Client,
// or a fake in tests; clock drives every wait and backoff.
func NewFinder(client xrayAPI, clock clockwork.Clock) *Finder {
	f := &Finder{
		client: client, clock: clock,
		Margin: DefaultMargin, Concurrency: DefaultConcurrency,
		MinDelay: DefaultMinDelay, MaxDelay: DefaultMaxDelay,
		Retries: DefaultRetries, IndexingGrace: DefaultIndexingGrace,
	}
	f.sleep = func(ctx context.Context, d time.Duration) error { return waiter.Sleep(ctx, f.clock, d) }
	return f
}

// Request says what to find.
type Request struct {
	// Job is the job whose traces are wanted; for an array parent the
	// traces of all its children are gathered.
	Job jobs.Job
	// Wait is how long to keep looking while fewer than Expect traces
	// have appeared: traces are indexed seconds after the job flushes,
	// sometimes longer.
	Wait time.Duration
	// Expect is how many traces make the result complete (one per attempt
	// that started, or per child); 0 means one. With TraceIDs it counts
	// the job segments found instead, since every attempt of a job is a
	// segment of the one trace submit decided.
	Expect int
	// TraceIDs, when set, are the job's traces by ID (the tagged one, and
	// an array's children's by traceid.Child): they are fetched directly,
	// with no search.
	TraceIDs []string
}

// Filter is the GetTraceSummaries filter expression for a job.
func Filter(j jobs.Job) string {
	key := "job_id"
	if j.Array != nil {
		key = "array_job_id"
	}
	return fmt.Sprintf("annotation.%s = %q", key, j.ID)
}

// Window is a time range of one GetTraceSummaries call.
type Window struct{ Start, End time.Time }

// Windows splits [start, end] into consecutive windows no longer than max.
func Windows(start, end time.Time, max time.Duration) []Window {
	var ws []Window
	for s := start; s.Before(end); s = s.Add(max) {
		e := s.Add(max)
		if e.After(end) {
			e = end
		}
		ws = append(ws, Window{s, e})
	}
	if len(ws) == 0 {
		ws = []Window{{start, start}}
	}
	return ws
}

// Find returns the job's traces, sorted by start. When none are found it
// returns a *NotFoundError that says why.
func (f *Finder) Find(ctx context.Context, req Request) ([]*Trace, error) {
	j := req.Job
	if j.CreatedAt.IsZero() {
		return nil, fmt.Errorf("find traces of job %s: the job has no creation time", j.ID)
	}
	if j.Started().IsZero() && !j.Status.Terminal() && j.Status != jobs.Running && j.Status != jobs.Starting && j.Array == nil {
		return nil, &NotFoundError{JobID: j.ID, Reason: ReasonNeverStarted, Status: j.Status}
	}
	if j.Started().IsZero() && j.Status == jobs.Failed && j.Array == nil {
		return nil, &NotFoundError{JobID: j.ID, Reason: ReasonNeverStarted, Status: j.Status}
	}
	expect := max(req.Expect, 1)
	if len(req.TraceIDs) > 0 {
		return f.findByID(ctx, req, expect)
	}
	var ids []string
	look := func(ctx context.Context) (bool, error) {
		var err error
		ids, err = f.traceIDs(ctx, j)
		return len(ids) >= expect, err
	}
	var err error
	if req.Wait <= 0 {
		_, err = look(ctx)
	} else {
		// Running out of Wait is no failure: what was found is the answer.
		err = waiter.Wait(ctx, "find traces of job "+j.ID, waiter.Options{
			MinDelay: f.MinDelay, MaxDelay: f.MaxDelay, MaxWait: req.Wait, Clock: f.clock, Sleep: f.sleep,
		}, look)
		if _, ok := errors.AsType[*waiter.TimeoutError](err); ok {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, f.explain(ctx, j, false)
	}
	return f.inChunks(ctx, ids, BatchSize, f.batch)
}

// findByID fetches the job's traces by their IDs, again within req.Wait
// until expect job segments are there.
func (f *Finder) findByID(ctx context.Context, req Request, expect int) ([]*Trace, error) {
	now := f.clock.Now()
	get := f.fetcher(ctx, req.Job.CreatedAt.Add(-f.Margin), req.Job.End(now).Add(f.Margin), req.Wait)
	var got []*Trace
	look := func(ctx context.Context) (bool, error) {
		var err error
		got, err = get(ctx, req.TraceIDs)
		n := 0
		for _, t := range got {
			n += JobSegments(t)
		}
		return n >= expect, err
	}
	var err error
	if req.Wait <= 0 {
		_, err = look(ctx)
	} else {
		err = waiter.Wait(ctx, "get traces of job "+req.Job.ID, waiter.Options{
			MinDelay: f.MinDelay, MaxDelay: f.MaxDelay, MaxWait: req.Wait, Clock: f.clock, Sleep: f.sleep,
		}, look)
		if _, ok := errors.AsType[*waiter.TimeoutError](err); ok {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	n := 0
	for _, t := range got {
		n += JobSegments(t)
	}
	// Submit's root alone is no trace of the job: it did not run traced,
	// or its segments are not there yet.
	if n == 0 {
		return nil, f.explain(ctx, req.Job, true)
	}
	return got, nil
}

// Fetch gets the traces with these IDs, sorted by start, and is the one
// place traces are got by ID: BatchGetTraces BatchSize IDs a call or, where
// the account sends its segments to CloudWatch Logs (Transaction Search,
// where BatchGetTraces sees only the indexed share), StartTraceRetrieval
// over [start, end] (cut at now), RetrievalSize IDs a retrieval, each
// polled within wait (at least MinRetrievalWait). Either way at most
// Concurrency calls are in flight and throttled calls are retried. An ID
// X-Ray has no trace for is left out.
func (f *Finder) Fetch(ctx context.Context, ids []string, start, end time.Time, wait time.Duration) ([]*Trace, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return f.fetcher(ctx, start, end, wait)(ctx, ids)
}

// fetcher asks once where the account sends its segments and returns the
// way its traces are got by ID.
func (f *Finder) fetcher(ctx context.Context, start, end time.Time, wait time.Duration) func(context.Context, []string) ([]*Trace, error) {
	if f.destination(ctx) != types.TraceSegmentDestinationCloudWatchLogs {
		return func(ctx context.Context, ids []string) ([]*Trace, error) {
			return f.inChunks(ctx, ids, BatchSize, f.batch)
		}
	}
	if now := f.clock.Now(); end.After(now) {
		end = now
	}
	return func(ctx context.Context, ids []string) ([]*Trace, error) {
		return f.inChunks(ctx, ids, RetrievalSize, func(ctx context.Context, chunk []string) ([]*Trace, error) {
			return f.retrieveChunk(ctx, chunk, start, end, wait)
		})
	}
}

// JobSegments counts the segments the job itself sent in the trace, one per
// attempt: not submit's root, not the ones X-Ray inferred.
func JobSegments(t *Trace) int {
	n := 0
	for _, r := range t.Roots {
		n += jobSegments(r)
	}
	return n
}

func jobSegments(s *Span) int {
	n := 0
	if s.Segment && !s.Inferred && s.Name != jobs.SubmitSegmentName {
		n++
	}
	for _, c := range s.Children {
		n += jobSegments(c)
	}
	return n
}

// traceIDs lists the IDs of the job's traces over its lifetime.
func (f *Finder) traceIDs(ctx context.Context, j jobs.Job) ([]string, error) {
	ids, err := f.Search(ctx, SearchRequest{
		Filter: Filter(j), Start: j.CreatedAt.Add(-f.Margin), End: j.End(f.clock.Now()).Add(f.Margin),
	})
	if err != nil {
		return nil, fmt.Errorf("find the traces of job %s: %w", j.ID, err)
	}
	return ids, nil
}

// SearchRequest is one search of the trace summaries, for the jobs that
// carry no trace ID.
type SearchRequest struct {
	// Filter is the filter expression, such as Filter(job).
	Filter string
	// Start and End bound the search; End is cut at now.
	Start, End time.Time
	// Keep, when set, keeps only the summaries whose job_id annotation it
	// accepts: a search over a queue that stands for many jobs' searches.
	Keep func(jobID string) bool
}

// Search lists the IDs of the traces whose summaries match, without
// duplicates, in the order of the windows and their pages.
func (f *Finder) Search(ctx context.Context, s SearchRequest) ([]string, error) {
	end := s.End
	if now := f.clock.Now(); end.After(now) {
		end = now
	}
	if !end.After(s.Start) {
		return nil, nil
	}
	seen := map[string]bool{}
	var ids []string
	for _, w := range Windows(s.Start, end, MaxWindow) {
		found, err := f.window(ctx, s, w)
		if err != nil {
			return nil, err
		}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// window is one GetTraceSummaries search, every page.
func (f *Finder) window(ctx context.Context, s SearchRequest, w Window) ([]string, error) {
	in := &xray.GetTraceSummariesInput{
		StartTime:        aws.Time(w.Start),
		EndTime:          aws.Time(w.End),
		FilterExpression: aws.String(s.Filter),
		Sampling:         aws.Bool(false),
	}
	var ids []string
	for {
		var out *xray.GetTraceSummariesOutput
		err := f.retry(ctx, func() error {
			var err error
			out, err = f.client.GetTraceSummaries(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("get trace summaries (%s): %w", s.Filter, err)
		}
		for _, t := range out.TraceSummaries {
			if id := aws.ToString(t.Id); id != "" && (s.Keep == nil || s.Keep(summaryJobID(t.Annotations))) {
				ids = append(ids, id)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return ids, nil
		}
		in.NextToken = out.NextToken
	}
}

// summaryJobID is the job_id annotation of a trace summary.
func summaryJobID(annotations map[string][]types.ValueWithServiceIds) string {
	for _, v := range annotations["job_id"] {
		if s, ok := v.AnnotationValue.(*types.AnnotationValueMemberStringValue); ok {
			return s.Value
		}
	}
	return ""
}

// inChunks gets the traces size IDs a call of get, at most Concurrency
// calls at a time, sorted by start.
func (f *Finder) inChunks(ctx context.Context, ids []string, size int, get func(context.Context, []string) ([]*Trace, error)) ([]*Trace, error) {
	chunks := make([][]*Trace, (len(ids)+size-1)/size)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(f.Concurrency, 1))
	for i := range chunks {
		chunk := ids[i*size : min((i+1)*size, len(ids))]
		g.Go(func() error {
			var err error
			chunks[i], err = get(ctx, chunk)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	traces := slices.Concat(chunks...)
	sort.Slice(traces, func(a, b int) bool {
		sa, sb := traceStart(traces[a]), traceStart(traces[b])
		if sa != sb {
			return sa < sb
		}
		return traces[a].ID < traces[b].ID
	})
	return traces, nil
}

func traceStart(t *Trace) float64 {
	if len(t.Roots) == 0 {
		return 0
	}
	return t.Roots[0].Start
}

// batch gets up to BatchSize traces, following NextToken, and asks again
// for the IDs X-Ray left unprocessed.
func (f *Finder) batch(ctx context.Context, ids []string) ([]*Trace, error) {
	docs := map[string][]string{}
	var order []string
	todo := ids
	for attempt := 0; len(todo) > 0; attempt++ {
		in := &xray.BatchGetTracesInput{TraceIds: todo}
		var unprocessed []string
		for {
			var out *xray.BatchGetTracesOutput
			err := f.retry(ctx, func() error {
				var err error
				out, err = f.client.BatchGetTraces(ctx, in)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("batch get traces %s: %w", strings.Join(todo, ", "), err)
			}
			for _, t := range out.Traces {
				id := aws.ToString(t.Id)
				if _, ok := docs[id]; !ok {
					order = append(order, id)
				}
				for _, s := range t.Segments {
					docs[id] = append(docs[id], aws.ToString(s.Document))
				}
			}
			unprocessed = append(unprocessed, out.UnprocessedTraceIds...)
			if aws.ToString(out.NextToken) == "" {
				break
			}
			in.NextToken = out.NextToken
		}
		if len(unprocessed) == 0 || attempt >= f.Retries {
			break
		}
		if err := f.sleep(ctx, f.backoff(attempt)); err != nil {
			return nil, err
		}
		todo = unprocessed
	}
	return parseAll(order, docs)
}

// parseAll parses the documents got for each trace, in order.
func parseAll(order []string, docs map[string][]string) ([]*Trace, error) {
	traces := make([]*Trace, 0, len(order))
	for _, id := range order {
		t, err := ParseTrace(id, docs[id])
		if err != nil {
			return nil, err
		}
		traces = append(traces, t)
	}
	return traces, nil
}

// retry calls fn again after a backoff while X-Ray throttles it.
func (f *Finder) retry(ctx context.Context, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !Throttled(err) || attempt >= f.Retries {
			return err
		}
		if err := f.sleep(ctx, f.backoff(attempt)); err != nil {
			return err
		}
	}
}

func (f *Finder) backoff(attempt int) time.Duration {
	return waiter.Backoff(attempt, f.MinDelay, f.MaxDelay)
}

// Throttled reports whether X-Ray refused a call for its rate.
func Throttled(err error) bool {
	var te *types.ThrottledException
	if errors.As(err, &te) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ThrottledException", "ThrottlingException", "TooManyRequestsException":
			return true
		}
	}
	return false
}
