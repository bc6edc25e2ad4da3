package traces

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/jobs"
)

// phase is a Phase in seconds from t0, for short tables.
type phase struct {
	State      jobs.State
	Start, End float64
	Open       bool
}

type track struct {
	Attempt int
	Outcome string
	Phases  []phase
}

func tracksOf(ts []Track) []track {
	var out []track
	for _, t := range ts {
		tr := track{Attempt: t.Attempt, Outcome: t.Outcome}
		for _, p := range t.Phases {
			tr.Phases = append(tr.Phases, phase{p.State, p.Start.Sub(t0).Seconds(), p.End.Sub(t0).Seconds(), p.Open})
		}
		out = append(out, tr)
	}
	return out
}

func TestLifecycle(t *testing.T) {
	retry, _ := retryJob()
	tests := []struct {
		name string
		job  jobs.Job
		now  float64
		want []track
	}{
		{
			name: "timestamps only: queued, then RUNNING",
			job:  nightlyJob(),
			now:  3600,
			want: []track{{1, OutcomeSucceeded, []phase{{StateQueued, 0, 41.2, false}, {jobs.Running, 41.2, 48.1, false}}}},
		},
		{
			name: "observed transitions, one track per attempt",
			job:  retry,
			now:  3600,
			want: []track{
				{1, OutcomeFailed, []phase{{jobs.Submitted, 0, 0.4, false}, {jobs.Pending, 0.4, 0.9, false}, {jobs.Runnable, 0.9, 30, false},
					{jobs.Starting, 30, 41.2, false}, {jobs.Running, 41.2, 47, false}}},
				{2, OutcomeSucceeded, []phase{{jobs.Runnable, 47, 55, false}, {jobs.Starting, 55, 58.3, false}, {jobs.Running, 58.3, 66, false}}},
			},
		},
		{
			name: "running now: the phase is open up to the clock",
			job:  jobs.Job{Status: jobs.Running, CreatedAt: at(0), StartedAt: at(10)},
			now:  25,
			want: []track{{1, OutcomeRunning, []phase{{StateQueued, 0, 10, false}, {jobs.Running, 10, 25, true}}}},
		},
		{
			name: "never started",
			job:  jobs.Job{Status: jobs.Runnable, CreatedAt: at(0)},
			now:  90,
			want: []track{{1, OutcomeWaiting, []phase{{StateQueued, 0, 90, true}}}},
		},
		{
			// Batch puts a failed attempt with retries left back in RUNNABLE.
			name: "waiting for a retry: a track for the attempt to come",
			job: jobs.Job{Status: jobs.Runnable, CreatedAt: at(0), StartedAt: at(5),
				Attempts: []jobs.Attempt{{StartedAt: at(5), StoppedAt: at(9), ExitCode: intp(2)}}},
			now: 30,
			want: []track{
				{1, OutcomeFailed, []phase{{StateQueued, 0, 5, false}, {jobs.Running, 5, 9, false}}},
				{2, OutcomeWaiting, []phase{{jobs.Runnable, 9, 30, true}}},
			},
		},
		{
			// Polling saw RUNNING late; Batch's start of the attempt is exact.
			name: "an attempt's start wins over a late sighting",
			job: jobs.Job{Status: jobs.Succeeded, CreatedAt: at(0), StartedAt: at(8), StoppedAt: at(20),
				Attempts:    []jobs.Attempt{{StartedAt: at(8), StoppedAt: at(20), ExitCode: intp(0)}},
				Transitions: []jobs.Transition{{State: jobs.Runnable, At: at(2)}, {State: jobs.Running, At: at(10)}}},
			now:  60,
			want: []track{{1, OutcomeSucceeded, []phase{{StateQueued, 0, 2, false}, {jobs.Runnable, 2, 8, false}, {jobs.Running, 8, 20, false}}}},
		},
		{
			// A parent's startedAt is its first child's: the parent itself
			// never runs.
			name: "array parent: queued while its children run",
			job:  jobs.Job{Status: jobs.Pending, CreatedAt: at(0), StartedAt: at(12), Array: &jobs.Array{Size: 2}},
			now:  30,
			want: []track{{1, OutcomeRunning, []phase{{StateQueued, 0, 30, true}}}},
		},
		{
			name: "failed before it started",
			job:  jobs.Job{Status: jobs.Failed, CreatedAt: at(0), StoppedAt: at(12)},
			now:  60,
			want: []track{{1, OutcomeFailed, []phase{{StateQueued, 0, 12, false}}}},
		},
		{
			name: "unknown creation: no lifecycle",
			job:  jobs.Job{Status: jobs.Succeeded},
			now:  60,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tracksOf(Lifecycle(tt.job, at(tt.now)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lifecycle (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChildRunTime(t *testing.T) {
	running := jobs.Job{Status: jobs.Running, CreatedAt: at(0), StartedAt: at(1)}
	if got, want := childRunTime(running, at(50)), 49*time.Second; got != want {
		t.Errorf("childRunTime = %v, want %v", got, want)
	}
}

func TestLifecycleReason(t *testing.T) {
	j := jobs.Job{Status: jobs.Failed, CreatedAt: at(0), StartedAt: at(20), StoppedAt: at(30),
		Attempts: []jobs.Attempt{
			{StartedAt: at(5), StoppedAt: at(10), ExitCode: intp(1), Reason: "OutOfMemoryError: Container killed", StatusReason: "Essential container in task exited"},
			{StartedAt: at(20), StoppedAt: at(30), ExitCode: intp(2), StatusReason: "Essential container in task exited"},
		}}
	var got []string
	for _, tr := range Lifecycle(j, at(60)) {
		got = append(got, tr.Reason)
	}
	// The container's reason says more than Batch's, which is the same
	// for every failed attempt.
	want := []string{"OutOfMemoryError: Container killed", "Essential container in task exited"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}
