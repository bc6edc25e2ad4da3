package report

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
)

// benchJobs is how many jobs the benchmark reports on by default: the
// children of one array job, each run as a process by the stand-in, which
// takes it about 40 s on 2 cores. BATCHXRAY_BENCH_JOBS=10000 runs the
// issue's 10,000 (several minutes of setup).
var benchJobs = 1000

func init() {
	if v, err := strconv.Atoi(os.Getenv("BATCHXRAY_BENCH_JOBS")); err == nil && v >= 2 && v <= 10000 {
		benchJobs = v
	}
}

// benchLatency is what the stand-in adds to every call, as a real endpoint's
// round trip.
const benchLatency = 50 * time.Millisecond

// counting counts the calls of each kind made through it, and the
// GetTraceSummaries pages of each time window.
type counting struct {
	BatchAPI
	XRayAPI
	list, describe, summaries, get, retrievals, other atomic.Int64

	mu sync.Mutex
	// pages counts the GetTraceSummaries calls of each window, found
	// those that returned a summary.
	pages, found map[[2]time.Time]int
}

// windows says how the GetTraceSummaries calls spread over their windows:
// how many windows, how many of them held no trace, and the most pages one
// window took (pages of a window follow one another).
func (c *counting) windows() (windows, empty, longest int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for w, n := range c.pages {
		windows++
		if c.found[w] == 0 {
			empty++
		}
		longest = max(longest, n)
	}
	return windows, empty, longest
}

func (c *counting) ListJobs(ctx context.Context, in *batch.ListJobsInput, o ...func(*batch.Options)) (*batch.ListJobsOutput, error) {
	c.list.Add(1)
	return c.BatchAPI.ListJobs(ctx, in, o...)
}

func (c *counting) DescribeJobs(ctx context.Context, in *batch.DescribeJobsInput, o ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	c.describe.Add(1)
	return c.BatchAPI.DescribeJobs(ctx, in, o...)
}

func (c *counting) GetTraceSummaries(ctx context.Context, in *xray.GetTraceSummariesInput, o ...func(*xray.Options)) (*xray.GetTraceSummariesOutput, error) {
	c.summaries.Add(1)
	out, err := c.XRayAPI.GetTraceSummaries(ctx, in, o...)
	w := [2]time.Time{aws.ToTime(in.StartTime), aws.ToTime(in.EndTime)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages, c.found = map[[2]time.Time]int{}, map[[2]time.Time]int{}
	}
	c.pages[w]++
	if err == nil && len(out.TraceSummaries) > 0 {
		c.found[w]++
	}
	return out, err
}

func (c *counting) BatchGetTraces(ctx context.Context, in *xray.BatchGetTracesInput, o ...func(*xray.Options)) (*xray.BatchGetTracesOutput, error) {
	c.get.Add(1)
	return c.XRayAPI.BatchGetTraces(ctx, in, o...)
}

func (c *counting) GetTraceSegmentDestination(ctx context.Context, in *xray.GetTraceSegmentDestinationInput, o ...func(*xray.Options)) (*xray.GetTraceSegmentDestinationOutput, error) {
	c.other.Add(1)
	return c.XRayAPI.GetTraceSegmentDestination(ctx, in, o...)
}

func (c *counting) GetIndexingRules(ctx context.Context, in *xray.GetIndexingRulesInput, o ...func(*xray.Options)) (*xray.GetIndexingRulesOutput, error) {
	c.other.Add(1)
	return c.XRayAPI.GetIndexingRules(ctx, in, o...)
}

func (c *counting) StartTraceRetrieval(ctx context.Context, in *xray.StartTraceRetrievalInput, o ...func(*xray.Options)) (*xray.StartTraceRetrievalOutput, error) {
	c.retrievals.Add(1)
	return c.XRayAPI.StartTraceRetrieval(ctx, in, o...)
}

func (c *counting) ListRetrievedTraces(ctx context.Context, in *xray.ListRetrievedTracesInput, o ...func(*xray.Options)) (*xray.ListRetrievedTracesOutput, error) {
	c.other.Add(1)
	return c.XRayAPI.ListRetrievedTraces(ctx, in, o...)
}

// BenchmarkGather gathers the report of benchJobs real jobs and their
// traces from the stand-in with benchLatency a call. It reports the wall
// time against the bound the batching allows, calls ÷ concurrency ×
// latency (the pages of one ListJobs or one GetTraceSummaries window follow
// one another, so the bound is a floor the wall time stays near, not
// under); and the memory per job, allocated and kept.
func BenchmarkGather(b *testing.B) {
	s := startStandIn(b, localaws.Options{Latency: benchLatency})
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	parent := s.submit(b, "bench", "exit 0", 1, int32(benchJobs), nil)
	waitUpTo(b, "the array job to end", 40*time.Minute, func() (bool, error) {
		out, err := s.bc.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: []string{parent}})
		if err != nil || len(out.Jobs) != 1 {
			return false, err
		}
		return out.Jobs[0].Status == types.JobStatusSucceeded || out.Jobs[0].Status == types.JobStatusFailed, nil
	})
	// Every child sends its trace, 50 documents a call as the daemon
	// batches them. A trace begins when its child started, and its ID
	// carries that second, as the X-Ray SDK mints it: X-Ray searches by
	// the ID's time.
	started := make([]time.Time, benchJobs)
	for i := 0; i < benchJobs; i += MaxDescribe {
		var ids []string
		for j := i; j < min(i+MaxDescribe, benchJobs); j++ {
			ids = append(ids, fmt.Sprintf("%s:%d", parent, j))
		}
		out, err := s.bc.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: ids})
		if err != nil || len(out.Jobs) != len(ids) {
			b.Fatalf("describe the children: %v (%d of %d)", err, len(out.Jobs), len(ids))
		}
		for _, d := range out.Jobs {
			started[aws.ToInt32(d.ArrayProperties.Index)] = time.UnixMilli(aws.ToInt64(d.StartedAt))
		}
	}
	var docs []string
	for i := range benchJobs {
		id := fmt.Sprintf("%s:%d", parent, i)
		start := float64(started[i].UnixNano()) / 1e9
		docs = append(docs, fmt.Sprintf(`{"name":"BatchJob","id":"%016x","trace_id":"1-%08x-%024x","start_time":%f,"end_time":%f,`+
			`"annotations":{"job_id":%q,"job_queue":%q},"subsegments":[`+
			`{"name":"S3","id":"%016x","namespace":"aws","start_time":%f,"end_time":%f},`+
			`{"name":"example.com","id":"%016x","namespace":"remote","start_time":%f,"end_time":%f}]}`,
			i+1, started[i].Unix(), i, start, start+2, id, testQueue, 1<<40+i, start+0.1, start+0.5, 1<<41+i, start+0.5, start+0.9))
	}
	for i := 0; i < len(docs); i += 50 {
		if _, err := s.xc.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs[i:min(i+50, len(docs))]}); err != nil {
			b.Fatal(err)
		}
	}

	const concurrency = DefaultConcurrency
	var c *counting
	var in Input
	var wall time.Duration
	var before, after runtime.MemStats
	b.ResetTimer()
	for b.Loop() {
		c = &counting{BatchAPI: s.bc, XRayAPI: s.xc}
		g := &Gatherer{Batch: c, XRay: c, Clock: clockwork.NewRealClock(), Concurrency: concurrency}
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		var err error
		in, err = g.Gather(ctx, Request{Queue: testQueue, Since: since, Until: time.Now()})
		wall = time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&after)
	}
	b.StopTimer()
	if len(in.Jobs) != benchJobs || len(in.Traces) != benchJobs {
		b.Fatalf("gathered %d jobs and %d traces, want %d of each", len(in.Jobs), len(in.Traces), benchJobs)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	var kept runtime.MemStats
	runtime.ReadMemStats(&kept)
	runtime.KeepAlive(in)

	calls := c.list.Load() + c.describe.Load() + c.summaries.Load() + c.get.Load() + c.retrievals.Load() + c.other.Load()
	bound := time.Duration((calls+concurrency-1)/concurrency) * benchLatency
	b.ReportMetric(float64(benchJobs), "jobs")
	b.ReportMetric(float64(calls), "calls")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "wall/bound")
	b.ReportMetric(float64(allocated)/float64(benchJobs), "alloc-B/job")
	b.ReportMetric(float64(int64(kept.HeapAlloc)-int64(before.HeapAlloc))/float64(benchJobs), "kept-B/job")
	b.Logf("calls: ListJobs %d, DescribeJobs %d, GetTraceSummaries %d, BatchGetTraces %d, StartTraceRetrieval %d, others %d", c.list.Load(), c.describe.Load(), c.summaries.Load(), c.get.Load(), c.retrievals.Load(), c.other.Load())
	windows, empty, longest := c.windows()
	b.Logf("GetTraceSummaries windows: %d, %d of them empty, at most %d pages in one", windows, empty, longest)
}
