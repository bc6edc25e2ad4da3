package jobs

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/waiter"
)

// runWait runs Wait on a fake clock that starts at t0, advancing it in
// 100ms steps whenever Wait sleeps, so polls happen at exactly the
// backoff's delays. It returns what Wait returned and each transition seen,
// as "ID STATE +offset".
func runWait(t *testing.T, ctx context.Context, f *fakeBatch, ids []string, o WaitOptions) ([]*Job, []string, error) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	o.Clock = clock
	var seen []string
	o.OnTransition = func(j *Job) {
		seen = append(seen, fmt.Sprintf("%s %s +%s", j.ID, j.Status, clock.Now().Sub(t0)))
	}
	var (
		js  []*Job
		err error
	)
	done, cancel := context.WithCancel(context.Background())
	go func() {
		js, err = Wait(ctx, f, ids, o)
		cancel()
	}()
	for clock.BlockUntilContext(done, 1) == nil {
		clock.Advance(100 * time.Millisecond)
	}
	return js, seen, err
}

func TestWait(t *testing.T) {
	opts := WaitOptions{MinDelay: 500 * time.Millisecond, MaxDelay: 2 * time.Second, MaxWait: time.Minute}
	failedChild := types.JobSummary{
		JobId:           aws.String("arr:7"),
		StatusReason:    aws.String("Essential container in task exited"),
		ArrayProperties: &types.ArrayPropertiesSummary{Index: aws.Int32(7)},
		Container:       &types.ContainerSummary{ExitCode: aws.Int32(1)},
	}
	tests := []struct {
		name    string
		ids     []string
		rounds  [][]types.JobDetail
		lists   map[string][]types.JobSummary
		opts    WaitOptions
		wantErr func(error) bool
		want    []string
		check   func(t *testing.T, js []*Job)
	}{
		{
			name: "success",
			ids:  []string{"a"},
			rounds: [][]types.JobDetail{
				{detail("a", types.JobStatusSubmitted)},
				{detail("a", types.JobStatusRunnable)},
				{detail("a", types.JobStatusRunnable)},
				{detail("a", types.JobStatusRunnable)},
				{detail("a", types.JobStatusStarting)},
				{detail("a", types.JobStatusRunning, started(4200))},
				{detail("a", types.JobStatusSucceeded, started(4200), stopped(4900, 0, "Essential container in task exited"), attempt(4200, 4900, 0, "Essential container in task exited"))},
			},
			wantErr: func(err error) bool { return err == nil },
			// Polls at 0 and 0.5 s see a change, so the next is 0.5 s
			// later; at 1 and 2 s none, so the delay doubles to 2 s; at 4 s
			// STARTING is a change, and the delay is 0.5 s again.
			want: []string{"a SUBMITTED +0s", "a RUNNABLE +500ms", "a STARTING +4s", "a RUNNING +4.5s", "a SUCCEEDED +5s"},
			check: func(t *testing.T, js []*Job) {
				j := js[0]
				diff(t, "durations", map[State]time.Duration{Submitted: 500 * time.Millisecond, Runnable: 3500 * time.Millisecond, Starting: 200 * time.Millisecond, Running: 700 * time.Millisecond}, j.Durations(t0.Add(time.Hour)))
				diff(t, "queue wait", 4200*time.Millisecond, j.QueueWait(t0.Add(time.Hour)))
				diff(t, "run time", 700*time.Millisecond, j.RunTime(t0.Add(time.Hour)))
			},
		},
		{
			name: "failure",
			ids:  []string{"a"},
			rounds: [][]types.JobDetail{
				{detail("a", types.JobStatusRunning, started(0))},
				{detail("a", types.JobStatusFailed, started(0), stopped(400, 3, "Essential container in task exited"), attempt(0, 400, 3, "Essential container in task exited"))},
			},
			wantErr: func(err error) bool {
				var fe *FailedError
				return errors.As(err, &fe) && fe.JobFailed() && err.Error() == "job job-a (a) FAILED: exit code 3; Essential container in task exited"
			},
			want: []string{"a RUNNING +0s", "a FAILED +500ms"},
		},
		{
			name: "retry then success",
			ids:  []string{"a"},
			rounds: [][]types.JobDetail{
				{detail("a", types.JobStatusRunning, retries(2), started(0))},
				{detail("a", types.JobStatusRunnable, retries(2), started(0), attempt(0, 300, 1, "Essential container in task exited"))},
				{detail("a", types.JobStatusRunning, retries(2), started(800), attempt(0, 300, 1, "Essential container in task exited"))},
				{detail("a", types.JobStatusSucceeded, retries(2), started(800), stopped(1400, 0, ""), attempt(0, 300, 1, "Essential container in task exited"), attempt(800, 1400, 0, "Essential container in task exited"))},
			},
			wantErr: func(err error) bool { return err == nil },
			// Every poll sees a change, so each comes 0.5 s after the last.
			want: []string{"a RUNNING +0s", "a RUNNABLE +500ms", "a RUNNING +1s", "a SUCCEEDED +1.5s"},
			check: func(t *testing.T, js []*Job) {
				j := js[0]
				diff(t, "attempts", 2, len(j.Attempts))
				// RUNNABLE from the first attempt's stop to the second's start.
				diff(t, "durations", map[State]time.Duration{Running: 900 * time.Millisecond, Runnable: 500 * time.Millisecond}, j.Durations(t0.Add(time.Hour)))
			},
		},
		{
			name: "array with a failing child",
			ids:  []string{"arr"},
			rounds: [][]types.JobDetail{
				{detail("arr", types.JobStatusPending, array(10, map[string]int32{"RUNNABLE": 10}))},
				{detail("arr", types.JobStatusPending, array(10, map[string]int32{"RUNNING": 4, "SUCCEEDED": 6}))},
				{detail("arr", types.JobStatusFailed, array(10, map[string]int32{"SUCCEEDED": 9, "FAILED": 1}), started(200), stopped(900, 0, "1 of 10 child jobs failed"))},
			},
			lists: map[string][]types.JobSummary{"arr": {failedChild}},
			wantErr: func(err error) bool {
				var fe *FailedError
				return errors.As(err, &fe) && len(fe.Jobs) == 1
			},
			// The counts changed at 0.5 s: the next poll is 0.5 s later.
			want: []string{"arr PENDING +0s", "arr FAILED +1s"},
			check: func(t *testing.T, js []*Job) {
				diff(t, "array", &Array{Size: 10, Counts: map[State]int{Succeeded: 9, Failed: 1}, FailedChildren: []FailedChild{{ID: "arr:7", Index: 7, ExitCode: aws.Int(1), StatusReason: "Essential container in task exited"}}}, js[0].Array)
			},
		},
		{
			name:   "timeout",
			ids:    []string{"a"},
			opts:   WaitOptions{MinDelay: time.Second, MaxDelay: 4 * time.Second, MaxWait: 10 * time.Second},
			rounds: repeat(detail("a", types.JobStatusRunnable), 5), // 0, 1, 3, 7, 10s
			wantErr: func(err error) bool {
				var te *waiter.TimeoutError
				return errors.As(err, &te) && te.TimedOut()
			},
			want: []string{"a RUNNABLE +0s"},
		},
		{
			name: "a long job with the default delays",
			ids:  []string{"a"},
			opts: WaitOptions{MaxWait: time.Hour},
			rounds: append(repeat(detail("a", types.JobStatusRunning, started(0)), 8),
				[]types.JobDetail{detail("a", types.JobStatusSucceeded, started(0), stopped(20000, 0, ""))}),
			wantErr: func(err error) bool { return err == nil },
			// Polls at 0, 0.5, 1.5, 3.5 s, then every 4 s: the end at 20 s
			// is seen at 23.5 s.
			want: []string{"a RUNNING +0s", "a SUCCEEDED +23.5s"},
		},
		{
			name:   "unknown job",
			ids:    []string{"a", "nope"},
			rounds: [][]types.JobDetail{{detail("a", types.JobStatusRunning)}},
			wantErr: func(err error) bool {
				var nf *NotFoundError
				return errors.As(err, &nf) && nf.NotFound() && nf.IDs[0] == "nope"
			},
		},
		{
			name: "finished jobs are not asked about again",
			ids:  []string{"a", "b"},
			rounds: [][]types.JobDetail{
				{detail("a", types.JobStatusSucceeded, stopped(0, 0, "")), detail("b", types.JobStatusRunning)},
				{detail("b", types.JobStatusSucceeded, stopped(400, 0, ""))},
			},
			wantErr: func(err error) bool { return err == nil },
			want:    []string{"a SUCCEEDED +0s", "b RUNNING +0s", "b SUCCEEDED +500ms"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeBatch{t: t, rounds: tt.rounds, lists: tt.lists}
			o := opts
			if tt.opts.MaxWait != 0 {
				o = tt.opts
			}
			js, seen, err := runWait(t, context.Background(), f, tt.ids, o)
			if !tt.wantErr(err) {
				t.Fatalf("unexpected error: %v", err)
			}
			diff(t, "transitions", tt.want, seen)
			f.verify()
			if tt.check != nil {
				tt.check(t, js)
			}
		})
	}
}

func repeat(d types.JobDetail, n int) [][]types.JobDetail {
	r := make([][]types.JobDetail, n)
	for i := range r {
		r[i] = []types.JobDetail{d}
	}
	return r
}

func TestWaitAsksOnlyForUnfinishedJobs(t *testing.T) {
	f := &fakeBatch{t: t, rounds: [][]types.JobDetail{
		{detail("a", types.JobStatusSucceeded, stopped(0, 0, "")), detail("b", types.JobStatusRunning)},
		{detail("b", types.JobStatusSucceeded, stopped(400, 0, ""))},
	}}
	if _, _, err := runWait(t, context.Background(), f, []string{"a", "b", "a"}, WaitOptions{MaxWait: time.Minute}); err != nil {
		t.Fatal(err)
	}
	diff(t, "IDs asked per call", [][]string{{"a", "b"}, {"b"}}, f.asked)
}

func TestWaitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fakeBatch{t: t, rounds: repeat(detail("a", types.JobStatusRunning), 2)}
	polls := 0
	o := WaitOptions{MaxWait: time.Minute, OnPoll: func([]*Job, time.Time) {
		polls++
		if polls == 2 {
			cancel()
		}
	}}
	js, _, err := runWait(t, ctx, f, []string{"a"}, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	f.verify()
	diff(t, "status when cancelled", Running, js[0].Status)
}

func TestWaitCallError(t *testing.T) {
	boom := errors.New("throttled")
	f := &fakeBatch{t: t, err: boom}
	if _, _, err := runWait(t, context.Background(), f, []string{"a"}, WaitOptions{MaxWait: time.Minute}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the call's error", err)
	}
}
