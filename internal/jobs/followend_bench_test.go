package jobs

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/jonboulle/clockwork"
)

// endClient is a Batch whose jobs run on a fake clock: job i is RUNNING
// from t0 until ends[i], then SUCCEEDED. It counts the DescribeJobs calls.
type endClient struct {
	WaitAPI
	clock *clockwork.FakeClock
	ends  map[string]time.Time
	calls int
	// running and done cache the details, which cost more to build than
	// Wait spends on them.
	running, done map[string]types.JobDetail
}

func (c *endClient) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	c.calls++
	now := c.clock.Now()
	out := &batch.DescribeJobsOutput{}
	for _, id := range in.Jobs {
		end := c.ends[id]
		if now.Before(end) {
			out.Jobs = append(out.Jobs, c.running[id])
			continue
		}
		d, ok := c.done[id]
		if !ok {
			d = c.running[id]
			d.Status = types.JobStatusSucceeded
			d.StoppedAt = aws.Int64(end.UnixMilli())
			c.done[id] = d
		}
		out.Jobs = append(out.Jobs, d)
	}
	return out, nil
}

// BenchmarkFollowEnd measures how late Wait sees the end of the jobs it
// follows, with the default delays, on a fake clock that jumps to each
// poll (each op is 400 simulated runs of one job, 20 of 1,000). Each run follows jobs that start at t0 and end spread over
// its last tenth; the runs' lengths spread over [length/2, length*3/2), so
// the end falls anywhere between two polls. It reports the lag from the
// last job's end to Wait's return (p50, p95, max), the DescribeJobs calls
// of a run, the calls a minute of the run, and the most calls in one
// round (ceil(N/100) for N jobs).
func BenchmarkFollowEnd(b *testing.B) {
	for _, tc := range []struct {
		jobs   int
		length time.Duration
	}{{1, time.Minute}, {1, time.Hour}, {1000, time.Minute}} {
		b.Run(fmt.Sprintf("jobs=%d/length=%s", tc.jobs, tc.length), func(b *testing.B) {
			ids := make([]string, tc.jobs)
			running := make(map[string]types.JobDetail, tc.jobs)
			for i := range ids {
				ids[i] = fmt.Sprintf("job-%04d", i)
				running[ids[i]] = detail(ids[i], types.JobStatusRunning, started(0))
			}
			runs := max(400/tc.jobs, 20)
			var lags []time.Duration
			var calls, minutes float64
			maxRound := 0
			for range b.N {
				lags = lags[:0]
				calls, minutes = 0, 0
				for r := range runs {
					clock := clockwork.NewFakeClockAt(t0)
					// Spread the runs' lengths evenly (r/runs is in [0, 1)),
					// off the grid of the polls by up to a second.
					length := tc.length/2 + time.Duration(float64(tc.length)*float64(r)/float64(runs)) + time.Duration(r*7919%1000)*time.Millisecond
					c := &endClient{clock: clock, ends: make(map[string]time.Time, len(ids)), running: running, done: map[string]types.JobDetail{}}
					var last time.Time
					for i, id := range ids {
						// The jobs end over the run's last tenth, as jobs of
						// one size started together do.
						end := t0.Add(length*9/10 + length/10*time.Duration(i+1)/time.Duration(len(ids))).Truncate(time.Millisecond)
						c.ends[id] = end
						last = end
					}
					roundStart := 0
					_, err := Wait(context.Background(), c, ids, WaitOptions{MaxWait: 24 * time.Hour, Clock: clock,
						Sleep: func(_ context.Context, d time.Duration) error { clock.Advance(d); return nil },
						OnPoll: func([]*Job, time.Time) {
							maxRound = max(maxRound, c.calls-roundStart)
							roundStart = c.calls
						}})
					if err != nil {
						b.Fatal(err)
					}
					lags = append(lags, clock.Now().Sub(last))
					calls += float64(c.calls)
					minutes += length.Minutes()
				}
			}
			slices.Sort(lags)
			b.ReportMetric(lags[len(lags)/2].Seconds(), "lag-p50-s")
			b.ReportMetric(lags[len(lags)*95/100].Seconds(), "lag-p95-s")
			b.ReportMetric(lags[len(lags)-1].Seconds(), "lag-max-s")
			b.ReportMetric(calls/float64(runs), "DescribeJobs/run")
			b.ReportMetric(calls/minutes, "DescribeJobs/min")
			b.ReportMetric(float64(maxRound), "max-calls/round")
		})
	}
}
