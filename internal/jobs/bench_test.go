package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
// the rounds a fixed one-second loop would have made over the same time,
// and how long after the last job's end (its stoppedAt) Wait returned. Run it with -benchtime=1x: each op runs 1,000 processes.
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
				js, err := Wait(context.Background(), c, ids, WaitOptions{MaxWait: 5 * time.Minute, OnPoll: func([]*Job, time.Time) { c.endRound() }})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				elapsed := time.Since(start)
				// The stand-in stamps stoppedAt from the same machine clock.
				var last time.Time
				for _, j := range js {
					if j.StoppedAt.After(last) {
						last = j.StoppedAt
					}
				}
				b.ReportMetric(time.Since(last).Seconds(), "lag-after-last-end-s")
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
// moving one step each time the job is asked about. Each answer is a fresh
// copy, decoded from JSON as the SDK decodes Batch's answer, so every
// string in it is a new allocation and what the follower keeps of them is
// counted.
type sequenceClient struct {
	WaitAPI
	seq  map[string][][]byte
	next map[string]int
}

func (c *sequenceClient) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	out := &batch.DescribeJobsOutput{Jobs: make([]types.JobDetail, len(in.Jobs))}
	for k, id := range in.Jobs {
		i := c.next[id]
		if err := json.Unmarshal(c.seq[id][i], &out.Jobs[k]); err != nil {
			return nil, err
		}
		c.next[id] = min(i+1, len(c.seq[id])-1)
	}
	return out, nil
}

// BenchmarkFollowMemory measures what following costs per job on the
// client, with a fake Batch so the stand-in's own memory is not counted:
// 1,000 children of an array job followed by ID (as `status` follows them)
// over a whole wait (five rounds: SUBMITTED, RUNNABLE, STARTING, RUNNING,
// SUCCEEDED). It reports the bytes allocated per child over the wait, and
// the heap the finished children keep, after a GC.
func BenchmarkFollowMemory(b *testing.B) {
	const n = 1000
	ids := make([]string, n)
	seq := map[string][][]byte{}
	for i := range ids {
		ids[i] = fmt.Sprintf("0b0c7d9e-5f7a-4c1e-9a57-2d6a8e1f3b4c:%d", i)
		child := func(d *types.JobDetail) {
			d.JobName = aws.String("nightly-etl")
			d.ArrayProperties = &types.ArrayPropertiesDetail{Index: aws.Int32(int32(i))}
		}
		for _, st := range []types.JobStatus{types.JobStatusSubmitted, types.JobStatusRunnable, types.JobStatusStarting, types.JobStatusRunning} {
			seq[ids[i]] = append(seq[ids[i]], mustJSON(b, detail(ids[i], st, child, started(1000))))
		}
		seq[ids[i]] = append(seq[ids[i]], mustJSON(b, detail(ids[i], types.JobStatusSucceeded, child, started(1000), stopped(2000, 0, exited), attempt(1000, 2000, 0, exited))))
	}
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
		runtime.KeepAlive(js) // what is followed stays live through the measure
		live = float64(ms.HeapAlloc-min(ms.HeapAlloc, before)) / n
		alloc = float64(ms.TotalAlloc-allocBefore) / n
	}
	b.ReportMetric(live, "B-kept/child")
	b.ReportMetric(alloc, "B-alloc/child")
}

func mustJSON(b *testing.B, v any) []byte {
	b.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
