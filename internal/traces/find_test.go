package traces

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/jobs"
)

// summariesCall is one scripted GetTraceSummaries call: what it must be
// asked, and its answer.
type summariesCall struct {
	filter     string
	start, end time.Time
	token      string
	ids        []string
	next       string
	err        error
}

// batchReply is one scripted answer of BatchGetTraces.
type batchReply struct {
	out *xray.BatchGetTracesOutput
	err error
}

// fakeXRay plays scripted X-Ray answers and checks that every scripted call
// was made, as asked.
type fakeXRay struct {
	t  *testing.T
	mu sync.Mutex

	summaries []summariesCall
	// batches are keyed by the IDs asked for and the page token.
	batches map[string][]batchReply

	destination  types.TraceSegmentDestination
	destErr      error
	wantDest     bool
	destinations int

	// release, if set, holds each BatchGetTraces call until the test
	// sends on it.
	release          chan struct{}
	inflight         int
	unexpectedCalled []string
}

func batchKey(ids []string, token string) string { return strings.Join(ids, ",") + "|" + token }

func (f *fakeXRay) GetTraceSummaries(_ context.Context, in *xray.GetTraceSummariesInput, _ ...func(*xray.Options)) (*xray.GetTraceSummariesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.summaries) == 0 {
		f.unexpectedCalled = append(f.unexpectedCalled, fmt.Sprintf("GetTraceSummaries %s %v–%v", aws.ToString(in.FilterExpression), in.StartTime, in.EndTime))
		return nil, errors.New("unexpected call")
	}
	c := f.summaries[0]
	f.summaries = f.summaries[1:]
	got := summariesCall{filter: aws.ToString(in.FilterExpression), start: aws.ToTime(in.StartTime), end: aws.ToTime(in.EndTime), token: aws.ToString(in.NextToken)}
	want := summariesCall{filter: c.filter, start: c.start, end: c.end, token: c.token}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(summariesCall{})); diff != "" {
		f.t.Errorf("GetTraceSummaries asked (-want +got):\n%s", diff)
	}
	if c.err != nil {
		return nil, c.err
	}
	out := &xray.GetTraceSummariesOutput{}
	for _, id := range c.ids {
		out.TraceSummaries = append(out.TraceSummaries, types.TraceSummary{Id: aws.String(id)})
	}
	if c.next != "" {
		out.NextToken = aws.String(c.next)
	}
	return out, nil
}

func (f *fakeXRay) BatchGetTraces(ctx context.Context, in *xray.BatchGetTracesInput, _ ...func(*xray.Options)) (*xray.BatchGetTracesOutput, error) {
	f.mu.Lock()
	f.inflight++
	f.mu.Unlock()
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inflight--
	if len(in.TraceIds) > BatchSize {
		f.t.Errorf("BatchGetTraces asked for %d IDs, more than %d", len(in.TraceIds), BatchSize)
	}
	k := batchKey(in.TraceIds, aws.ToString(in.NextToken))
	q := f.batches[k]
	if len(q) == 0 {
		f.unexpectedCalled = append(f.unexpectedCalled, "BatchGetTraces "+k)
		return nil, errors.New("unexpected call")
	}
	f.batches[k] = q[1:]
	return q[0].out, q[0].err
}

func (f *fakeXRay) GetTraceSegmentDestination(context.Context, *xray.GetTraceSegmentDestinationInput, ...func(*xray.Options)) (*xray.GetTraceSegmentDestinationOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.destinations++
	if f.destErr != nil {
		return nil, f.destErr
	}
	return &xray.GetTraceSegmentDestinationOutput{Destination: f.destination, Status: types.TraceSegmentDestinationStatusActive}, nil
}

func (f *fakeXRay) StartTraceRetrieval(context.Context, *xray.StartTraceRetrievalInput, ...func(*xray.Options)) (*xray.StartTraceRetrievalOutput, error) {
	f.t.Error("StartTraceRetrieval not scripted")
	return nil, errors.New("not scripted")
}

func (f *fakeXRay) ListRetrievedTraces(context.Context, *xray.ListRetrievedTracesInput, ...func(*xray.Options)) (*xray.ListRetrievedTracesOutput, error) {
	f.t.Error("ListRetrievedTraces not scripted")
	return nil, errors.New("not scripted")
}

// GetIndexingRules answers as an account that does not let us read them.
func (f *fakeXRay) GetIndexingRules(context.Context, *xray.GetIndexingRulesInput, ...func(*xray.Options)) (*xray.GetIndexingRulesOutput, error) {
	return nil, errors.New("AccessDenied")
}

// verify fails the test for scripted calls not made and calls not scripted.
func (f *fakeXRay) verify() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.summaries {
		f.t.Errorf("GetTraceSummaries %s %v–%v (token %q) was scripted but not called", c.filter, c.start, c.end, c.token)
	}
	for k, q := range f.batches {
		if len(q) > 0 {
			f.t.Errorf("BatchGetTraces %s was scripted %d more times but not called", k, len(q))
		}
	}
	if f.wantDest && f.destinations == 0 {
		f.t.Error("GetTraceSegmentDestination was scripted but not called")
	}
	for _, c := range f.unexpectedCalled {
		f.t.Errorf("unscripted call: %s", c)
	}
}

// traceReply is a BatchGetTraces answer holding one small trace per ID.
func traceReply(next string, ids ...string) batchReply {
	out := &xray.BatchGetTracesOutput{}
	for i, id := range ids {
		// Traces start in the order of their IDs' numbers, so the
		// Finder's sort by start is visible.
		var n int
		_, _ = fmt.Sscanf(id[max(len(id)-2, 0):], "%d", &n)
		doc := fmt.Sprintf(`{"id":"%016x","name":"BatchJob","trace_id":%q,"start_time":%d,"end_time":%d,"annotations":{"array_index":%d}}`,
			i+1, id, 1764040050+n, 1764040060+n, i)
		out.Traces = append(out.Traces, types.Trace{Id: aws.String(id), Segments: []types.Segment{{Id: aws.String(fmt.Sprintf("%016x", i+1)), Document: aws.String(doc)}}})
	}
	if next != "" {
		out.NextToken = aws.String(next)
	}
	return batchReply{out: out}
}

func throttled() error {
	return &types.ThrottledException{Message: aws.String("Rate exceeded")}
}

// run calls Find with sleeps that move the fake clock on at once, and
// returns what Find returned and the sleeps it made.
func run(t *testing.T, f *Finder, clock *clockwork.FakeClock, req Request) ([]*Trace, []time.Duration, error) {
	t.Helper()
	var (
		mu     sync.Mutex
		sleeps []time.Duration
	)
	f.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sleeps = append(sleeps, d)
		clock.Advance(d)
		return ctx.Err()
	}
	got, err := f.Find(context.Background(), req)
	return got, sleeps, err
}

func finishedJob(now time.Time) jobs.Job {
	return jobs.Job{ID: "job-1", Status: jobs.Succeeded, CreatedAt: now.Add(-time.Hour), StartedAt: now.Add(-50 * time.Minute),
		StoppedAt: now.Add(-40 * time.Minute), Attempts: []jobs.Attempt{{StartedAt: now.Add(-50 * time.Minute), StoppedAt: now.Add(-40 * time.Minute)}}}
}

func ids(prefix string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("%s-%02d", prefix, i))
	}
	return out
}

func TestWindows(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		start, end time.Time
		want       []Window
	}{
		{"short", t0, t0.Add(time.Hour), []Window{{t0, t0.Add(time.Hour)}}},
		{"exactly the maximum", t0, t0.Add(MaxWindow), []Window{{t0, t0.Add(MaxWindow)}}},
		{"fifty hours", t0, t0.Add(50 * time.Hour), []Window{
			{t0, t0.Add(24 * time.Hour)}, {t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)}, {t0.Add(48 * time.Hour), t0.Add(50 * time.Hour)}}},
		{"empty", t0, t0, []Window{{t0, t0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Windows(tt.start, tt.end, MaxWindow)); diff != "" {
				t.Errorf("Windows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	if got, want := Filter(jobs.Job{ID: "abc"}), `annotation.job_id = "abc"`; got != want {
		t.Errorf("Filter(job) = %s, want %s", got, want)
	}
	if got, want := Filter(jobs.Job{ID: "arr", Array: &jobs.Array{Size: 10}}), `annotation.array_job_id = "arr"`; got != want {
		t.Errorf("Filter(array parent) = %s, want %s", got, want)
	}
}

func TestThrottled(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{throttled(), true},
		{fmt.Errorf("get: %w", &smithy.GenericAPIError{Code: "ThrottlingException"}), true},
		{&smithy.GenericAPIError{Code: "InvalidRequestException"}, false},
		{errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := Throttled(tt.err); got != tt.want {
			t.Errorf("Throttled(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestFindPagesBatchesAndRetries finds twelve traces over two pages of
// summaries and fetches them in batches of five, one of them paginated, one
// throttled once and one with an ID X-Ray left unprocessed.
func TestFindPagesBatchesAndRetries(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC))
	now := clock.Now()
	job := finishedJob(now)
	all := ids("1-t", 12)
	start, end := job.CreatedAt.Add(-DefaultMargin), job.StoppedAt.Add(DefaultMargin)
	filter := `annotation.job_id = "job-1"`
	fake := &fakeXRay{t: t,
		summaries: []summariesCall{
			{filter: filter, start: start, end: end, ids: all[:7], next: "page2"},
			{filter: filter, start: start, end: end, token: "page2", ids: append(all[7:], all[0])}, // a repeat is dropped
		},
		batches: map[string][]batchReply{
			batchKey(all[0:5], ""):     {traceReply("more", all[0:3]...)},
			batchKey(all[0:5], "more"): {traceReply("", all[3:5]...)},
			batchKey(all[5:10], ""):    {{err: throttled()}, traceReply("", all[5:10]...)},
			batchKey(all[10:12], ""):   {{out: &xray.BatchGetTracesOutput{Traces: traceReply("", all[10]).out.Traces, UnprocessedTraceIds: all[11:12]}}},
			batchKey(all[11:12], ""):   {traceReply("", all[11])},
		},
	}
	f := NewFinder(fake, clock)
	got, sleeps, err := run(t, f, clock, Request{Job: job})
	if err != nil {
		t.Fatal(err)
	}
	// One backoff after the throttle, one before asking again for the
	// unprocessed ID, in either order.
	if diff := cmp.Diff([]time.Duration{time.Second, time.Second}, sleeps); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	var gotIDs []string
	for _, tr := range got {
		gotIDs = append(gotIDs, tr.ID)
	}
	if diff := cmp.Diff(all, gotIDs); diff != "" {
		t.Errorf("trace IDs (-want +got):\n%s", diff)
	}
	fake.verify()
}

// TestFindBoundsConcurrency holds every BatchGetTraces call until the test
// lets one go, and counts the calls in flight each time every goroutine is
// blocked (synctest.Wait): always the bound while enough batches remain.
func TestFindBoundsConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC))
		job := finishedJob(clock.Now())
		all := ids("1-c", 40)
		batches := len(all) / BatchSize
		fake := &fakeXRay{t: t, release: make(chan struct{}), batches: map[string][]batchReply{},
			summaries: []summariesCall{{filter: `annotation.job_id = "job-1"`, start: job.CreatedAt.Add(-DefaultMargin), end: job.StoppedAt.Add(DefaultMargin), ids: all}}}
		for i := 0; i < len(all); i += BatchSize {
			fake.batches[batchKey(all[i:i+BatchSize], "")] = []batchReply{traceReply("", all[i:i+BatchSize]...)}
		}
		f := NewFinder(fake, clock)
		f.Concurrency = 3
		type result struct {
			traces []*Trace
			err    error
		}
		done := make(chan result, 1)
		go func() {
			got, err := f.Find(context.Background(), Request{Job: job})
			done <- result{got, err}
		}()
		for finished := 0; finished < batches; finished++ {
			synctest.Wait()
			fake.mu.Lock()
			inflight := fake.inflight
			fake.mu.Unlock()
			if want := min(3, batches-finished); inflight != want {
				t.Fatalf("after %d calls ended, %d were in flight, want %d", finished, inflight, want)
			}
			fake.release <- struct{}{}
		}
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.traces) != len(all) {
			t.Errorf("got %d traces, want %d", len(r.traces), len(all))
		}
		fake.verify()
	})
}

// TestFindWaitsForLateTraces: a job still running has no trace yet; the
// Finder asks again with backoff, each time up to the clock, until it shows.
func TestFindWaitsForLateTraces(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC))
	now := clock.Now()
	job := jobs.Job{ID: "job-1", Status: jobs.Running, CreatedAt: now.Add(-time.Minute), StartedAt: now.Add(-30 * time.Second)}
	start := job.CreatedAt.Add(-DefaultMargin)
	filter := `annotation.job_id = "job-1"`
	fake := &fakeXRay{t: t,
		summaries: []summariesCall{
			{filter: filter, start: start, end: now},
			{filter: filter, start: start, end: now.Add(time.Second)},
			{filter: filter, start: start, end: now.Add(3 * time.Second), ids: []string{"1-late"}},
		},
		batches: map[string][]batchReply{batchKey([]string{"1-late"}, ""): {traceReply("", "1-late")}},
	}
	f := NewFinder(fake, clock)
	f.MaxDelay = 2 * time.Second
	got, waited, err := run(t, f, clock, Request{Job: job, Wait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "1-late" {
		t.Errorf("got %d traces, want 1-late", len(got))
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, waited); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	fake.verify()
}

func TestFindExplainsEmpty(t *testing.T) {
	now := time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)
	finished := finishedJob(now)
	justStopped := finishedJob(now)
	justStopped.StoppedAt = now.Add(-30 * time.Second)
	tests := []struct {
		name        string
		job         jobs.Job
		wait        time.Duration
		queries     int
		destination types.TraceSegmentDestination
		destErr     error
		want        Reason
		wantSleeps  []time.Duration
	}{
		{name: "never started", job: jobs.Job{ID: "job-1", Status: jobs.Runnable, CreatedAt: now.Add(-time.Hour)}, want: ReasonNeverStarted},
		{name: "failed before it started", job: jobs.Job{ID: "job-1", Status: jobs.Failed, CreatedAt: now.Add(-time.Hour), StoppedAt: now.Add(-time.Minute)}, want: ReasonNeverStarted},
		{name: "stopped long ago, nothing sent", job: finished, queries: 1, destination: types.TraceSegmentDestinationXRay, want: ReasonUntraced},
		{name: "stopped moments ago: still indexing", job: justStopped, queries: 1, destination: types.TraceSegmentDestinationXRay, want: ReasonIndexing},
		{name: "waited and still nothing", job: justStopped, wait: 5 * time.Second, queries: 4, destination: types.TraceSegmentDestinationXRay, want: ReasonIndexing,
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 2 * time.Second}},
		{name: "still running", job: jobs.Job{ID: "job-1", Status: jobs.Running, CreatedAt: now.Add(-time.Minute), StartedAt: now.Add(-30 * time.Second)},
			queries: 1, destination: types.TraceSegmentDestinationXRay, want: ReasonRunning},
		{name: "transaction search", job: finished, queries: 1, destination: types.TraceSegmentDestinationCloudWatchLogs, want: ReasonTransactionSearch},
		{name: "destination unreadable", job: finished, queries: 1, destErr: &smithy.GenericAPIError{Code: "AccessDeniedException"}, want: ReasonUntraced},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(now)
			fake := &fakeXRay{t: t, destination: tt.destination, destErr: tt.destErr, wantDest: tt.queries > 0}
			at := now
			for i := 0; i < tt.queries; i++ {
				end := tt.job.End(at).Add(DefaultMargin)
				if end.After(at) {
					end = at
				}
				fake.summaries = append(fake.summaries, summariesCall{filter: `annotation.job_id = "job-1"`, start: tt.job.CreatedAt.Add(-DefaultMargin), end: end})
				if i < len(tt.wantSleeps) {
					at = at.Add(tt.wantSleeps[i])
				}
			}
			f := NewFinder(fake, clock)
			_, waited, err := run(t, f, clock, Request{Job: tt.job, Wait: tt.wait})
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("Find error = %v, want a NotFoundError", err)
			}
			if nf.Reason != tt.want || !nf.NotFound() {
				t.Errorf("reason = %s, want %s", nf.Reason, tt.want)
			}
			if nf.Error() == "" || nf.Hint() == "" {
				t.Error("the error has no message or no hint")
			}
			if diff := cmp.Diff(tt.wantSleeps, waited); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			fake.verify()
		})
	}
}

// TestFindArrayParent gathers the children's traces by the parent's
// annotation, over windows of at most a day for a parent that ran for two.
func TestFindArrayParent(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC))
	now := clock.Now()
	parent := jobs.Job{ID: "arr", Status: jobs.Succeeded, Array: &jobs.Array{Size: 3}, CreatedAt: now.Add(-50 * time.Hour), StartedAt: now.Add(-49 * time.Hour), StoppedAt: now.Add(-time.Hour)}
	filter := `annotation.array_job_id = "arr"`
	start := parent.CreatedAt.Add(-DefaultMargin)
	fake := &fakeXRay{t: t,
		summaries: []summariesCall{
			{filter: filter, start: start, end: start.Add(24 * time.Hour), ids: []string{"1-a"}},
			{filter: filter, start: start.Add(24 * time.Hour), end: start.Add(48 * time.Hour), ids: []string{"1-b"}},
			{filter: filter, start: start.Add(48 * time.Hour), end: parent.StoppedAt.Add(DefaultMargin), ids: []string{"1-c"}},
		},
		batches: map[string][]batchReply{batchKey([]string{"1-a", "1-b", "1-c"}, ""): {traceReply("", "1-a", "1-b", "1-c")}},
	}
	got, err, _ := run(t, NewFinder(fake, clock), clock, Request{Job: parent, Expect: 3})
	if err != nil {
		t.Fatal(err)
	}
	var indexes []int
	for _, tr := range got {
		i, ok := ArrayIndex(tr)
		if !ok {
			t.Errorf("trace %s has no array_index", tr.ID)
		}
		indexes = append(indexes, i)
	}
	if diff := cmp.Diff([]int{0, 1, 2}, indexes); diff != "" {
		t.Errorf("array indexes (-want +got):\n%s", diff)
	}
	fake.verify()
}

// TestClockSleep checks the real sleep: it ends when the clock reaches the
// end, or when the context is cancelled.
func TestClockSleep(t *testing.T) {
	clock := clockwork.NewFakeClock()
	f := NewFinder(&fakeXRay{t: t}, clock)
	done := make(chan error, 1)
	go func() { done <- f.sleep(context.Background(), 3*time.Second) }()
	if err := clock.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second)
	if err := <-done; err != nil {
		t.Errorf("sleep = %v, want nil after the clock moved on", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- f.sleep(ctx, time.Hour) }()
	if err := clock.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("sleep = %v, want context.Canceled", err)
	}
}
