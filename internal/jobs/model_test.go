package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

func TestDescribeBatchesBy100(t *testing.T) {
	var ids []string
	var known []types.JobDetail
	for i := range 250 {
		id := fmt.Sprintf("job-%03d", i)
		ids = append(ids, id)
		if i != 7 && i != 200 {
			known = append(known, detail(id, types.JobStatusRunning))
		}
	}
	f := &fakeBatch{t: t, rounds: [][]types.JobDetail{known, known, known}}
	found, unknown, err := Describe(context.Background(), f, append(ids, "job-001"))
	if err != nil {
		t.Fatal(err)
	}
	f.verify()
	diff(t, "IDs a call", []int{100, 100, 50}, []int{len(f.asked[0]), len(f.asked[1]), len(f.asked[2])})
	diff(t, "unknown", []string{"job-007", "job-200"}, unknown)
	diff(t, "found", 248, len(found))
	diff(t, "order kept", "job-249", aws.ToString(found[247].JobId))
}

func TestFromDetail(t *testing.T) {
	child := detail("p:3", types.JobStatusRunning, started(1000))
	child.ArrayProperties = &types.ArrayPropertiesDetail{Index: aws.Int32(3)}
	child.Container.LogConfiguration = nil
	j := FromDetail(child)
	diff(t, "index", 3, *j.ArrayIndex)
	diff(t, "no array summary on a child", (*Array)(nil), j.Array)
	diff(t, "default log group", "/aws/batch/job", j.LogGroup)
	diff(t, "queue name from its ARN", "demo-queue", j.Queue)
	diff(t, "request", []any{1.0, 2048}, []any{j.VCPUs, j.MemoryMiB})
	// Seen RUNNING only: when it was PENDING or RUNNABLE is not known.
	diff(t, "spans", []StateSpan{{Running, t0.Add(time.Second), time.Time{}}}, j.StateSpans())
	pending := FromDetail(child)
	pending.Status = Pending
	pending.StartedAt = time.Time{}
	// An array child is created into PENDING.
	diff(t, "spans of a pending child", []StateSpan{{Pending, t0, time.Time{}}}, pending.StateSpans())
	diff(t, "attempt", 1, j.Attempt())
}

func TestQueueWaitAndRunTimeSoFar(t *testing.T) {
	j := FromDetail(detail("a", types.JobStatusRunning, started(4000)))
	now := t0.Add(10 * time.Second)
	diff(t, "queue wait", 4*time.Second, j.QueueWait(now))
	diff(t, "run time", 6*time.Second, j.RunTime(now))
	runnable := FromDetail(detail("b", types.JobStatusRunnable))
	diff(t, "queue wait while waiting", 10*time.Second, runnable.QueueWait(now))
	diff(t, "no run time yet", time.Duration(0), runnable.RunTime(now))
}

func TestDurationsOfAJobFirstSeenLate(t *testing.T) {
	j := &Job{}
	j.Update(detail("a", types.JobStatusRunnable), t0.Add(time.Minute))
	j.Update(detail("a", types.JobStatusRunning, started(65000)), t0.Add(66*time.Second))
	now := t0.Add(70 * time.Second)
	// The minute before it was first seen is in no state; the queue wait
	// still counts it.
	diff(t, "durations", map[State]time.Duration{Runnable: 5 * time.Second, Running: 5 * time.Second}, j.Durations(now))
	diff(t, "queue wait", 65*time.Second, j.QueueWait(now))
}

func TestRunnableFor(t *testing.T) {
	now := t0.Add(time.Minute)
	waiting := &Job{}
	waiting.Update(detail("a", types.JobStatusRunnable), t0.Add(10*time.Second))
	parent := FromDetail(detail("p", types.JobStatusPending, array(5, map[string]int32{"RUNNABLE": 5})))
	begun := FromDetail(detail("p", types.JobStatusPending, array(5, map[string]int32{"RUNNABLE": 4, "RUNNING": 1}), started(30000)))
	running := FromDetail(detail("r", types.JobStatusRunning, started(1000)))
	for name, tt := range map[string]struct {
		j    *Job
		want time.Duration
	}{
		"runnable job":               {waiting, 50 * time.Second},
		"array none started":         {&parent, time.Minute},
		"array with a child started": {&begun, 0},
		"running job":                {&running, 0},
	} {
		diff(t, name, tt.want, tt.j.RunnableFor(now))
	}
}

func TestStartedAndEnd(t *testing.T) {
	now := t0.Add(time.Hour)
	retried := Job{Status: Succeeded, StartedAt: t0.Add(50 * time.Second), StoppedAt: t0.Add(60 * time.Second),
		Attempts: []Attempt{{StartedAt: t0.Add(10 * time.Second), StoppedAt: t0.Add(20 * time.Second)}, {StartedAt: t0.Add(50 * time.Second)}}}
	noStop := Job{Status: Failed, Attempts: []Attempt{{StartedAt: t0, StoppedAt: t0.Add(5 * time.Second)}}}
	running := Job{Status: Running, StartedAt: t0.Add(time.Second)}
	tests := []struct {
		name             string
		j                Job
		started, stopped time.Time
	}{
		{"retried: the first attempt's start, Batch's stop", retried, t0.Add(10 * time.Second), t0.Add(60 * time.Second)},
		{"ended without a stop time: its last attempt's", noStop, t0, t0.Add(5 * time.Second)},
		{"running: Batch's start, now", running, t0.Add(time.Second), now},
		{"never started", Job{Status: Runnable}, time.Time{}, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "started", tt.started, tt.j.Started())
			diff(t, "end", tt.stopped, tt.j.End(now))
		})
	}
}
