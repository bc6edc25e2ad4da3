package jobs

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// countingClient counts DescribeJobs calls and the poll rounds they fall
// in: a round is the calls made between two OnPoll callbacks.
type countingClient struct {
	WaitAPI
	mu       sync.Mutex
	calls    int
	maxIDs   int
	perRound []int
	current  int
}

func (c *countingClient) DescribeJobs(ctx context.Context, in *batch.DescribeJobsInput, o ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	c.mu.Lock()
	c.calls++
	c.current++
	c.maxIDs = max(c.maxIDs, len(in.Jobs))
	c.mu.Unlock()
	return c.WaitAPI.DescribeJobs(ctx, in, o...)
}

func (c *countingClient) endRound() {
	c.mu.Lock()
	c.perRound = append(c.perRound, c.current)
	c.current = 0
	c.mu.Unlock()
}

// BenchmarkFollow1000 follows 1,000 jobs to the end through the stand-in
// with the default delays and reports the DescribeJobs calls made, the
// poll rounds, the most calls in one round (target: ceil(1000/100) = 10),
// and the rounds a fixed one-second loop would have made over the same
// time. Run it with -benchtime=1x: each op runs 1,000 processes.
func BenchmarkFollow1000(b *testing.B) {
	const n = 1000
	for _, sleep := range []string{"1", "10"} {
		b.Run("job="+sleep+"s", func(b *testing.B) {
			s := startStandIn(b, 100)
			for range b.N {
				b.StopTimer()
				ids := make([]string, n)
				for i := range ids {
					spec := s.spec
					spec.Name, spec.Command = fmt.Sprintf("bench-%d", i), []string{"sleep", sleep}
					sub, err := Submit(context.Background(), s.c, spec, SubmitOptions{})
					if err != nil {
						b.Fatal(err)
					}
					ids[i] = sub.ID
				}
				c := &countingClient{WaitAPI: s.c}
				start := time.Now()
				b.StartTimer()
				if _, err := Wait(context.Background(), c, ids, WaitOptions{MaxWait: 5 * time.Minute, OnPoll: func([]*Job, time.Time) { c.endRound() }}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				elapsed := time.Since(start)
				b.ReportMetric(float64(c.calls), "DescribeJobs/op")
				b.ReportMetric(float64(len(c.perRound)), "rounds/op")
				b.ReportMetric(float64(slices.Max(c.perRound)), "max-calls/round")
				b.ReportMetric(float64(c.maxIDs), "max-IDs/call")
				b.ReportMetric(elapsed.Seconds()+1, "fixed-1s-rounds/op")
			}
		})
	}
}

// sequenceClient answers each job from its own sequence of details,
// moving one step each time the job is asked about.
type sequenceClient struct {
	WaitAPI
	seq  map[string][]types.JobDetail
	next map[string]int
}

func (c *sequenceClient) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	out := &batch.DescribeJobsOutput{Jobs: make([]types.JobDetail, 0, len(in.Jobs))}
	for _, id := range in.Jobs {
		i := c.next[id]
		out.Jobs = append(out.Jobs, c.seq[id][i])
		c.next[id] = min(i+1, len(c.seq[id])-1)
	}
	return out, nil
}

// BenchmarkFollowMemory measures what following costs per job on the
// client, with a fake Batch so the stand-in's own memory is not counted:
// bytes allocated per followed job over a whole wait (five rounds:
// SUBMITTED, RUNNABLE, STARTING, RUNNING, SUCCEEDED), and the heap the
// finished jobs keep.
func BenchmarkFollowMemory(b *testing.B) {
	const n = 1000
	ids := make([]string, n)
	seq := map[string][]types.JobDetail{}
	for i := range ids {
		ids[i] = fmt.Sprintf("job-%04d", i)
		for _, st := range []types.JobStatus{types.JobStatusSubmitted, types.JobStatusRunnable, types.JobStatusStarting, types.JobStatusRunning} {
			seq[ids[i]] = append(seq[ids[i]], detail(ids[i], st, started(1000)))
		}
		seq[ids[i]] = append(seq[ids[i]], detail(ids[i], types.JobStatusSucceeded, started(1000), stopped(2000, 0, exited), attempt(1000, 2000, 0, exited)))
	}
	var kept []*Job
	var ms runtime.MemStats
	var live, alloc float64
	for range b.N {
		c := &sequenceClient{seq: seq, next: map[string]int{}}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before, allocBefore := ms.HeapAlloc, ms.TotalAlloc
		js, err := Wait(context.Background(), c, ids, WaitOptions{MinDelay: time.Nanosecond, MaxDelay: time.Nanosecond, MaxWait: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		kept = js
		live = float64(ms.HeapAlloc-min(ms.HeapAlloc, before)) / n
		alloc = float64(ms.TotalAlloc-allocBefore) / n
	}
	b.ReportMetric(live, "B-kept/job")
	b.ReportMetric(alloc, "B-alloc/job")
	runtime.KeepAlive(kept)
}
