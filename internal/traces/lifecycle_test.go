package traces

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// phase is a Phase in seconds from t0, for short tables.
type phase struct {
	State      string
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
		job  Job
		now  float64
		want []track
	}{
		{
			name: "timestamps only: queued, then RUNNING",
			job:  nightlyJob(),
			now:  3600,
			want: []track{{1, OutcomeSucceeded, []phase{{StateQueued, 0, 41.2, false}, {StateRunning, 41.2, 48.1, false}}}},
		},
		{
			name: "observed transitions, one track per attempt",
			job:  retry,
			now:  3600,
			want: []track{
				{1, OutcomeFailed, []phase{{StateSubmitted, 0, 0.4, false}, {StatePending, 0.4, 0.9, false}, {StateRunnable, 0.9, 30, false},
					{StateStarting, 30, 41.2, false}, {StateRunning, 41.2, 47, false}}},
				{2, OutcomeSucceeded, []phase{{StateRunnable, 47, 55, false}, {StateStarting, 55, 58.3, false}, {StateRunning, 58.3, 66, false}}},
			},
		},
		{
			name: "running now: the phase is open up to the clock",
			job:  Job{Status: StateRunning, CreatedAt: at(0), StartedAt: at(10)},
			now:  25,
			want: []track{{1, OutcomeRunning, []phase{{StateQueued, 0, 10, false}, {StateRunning, 10, 25, true}}}},
		},
		{
			name: "never started",
			job:  Job{Status: StateRunnable, CreatedAt: at(0)},
			now:  90,
			want: []track{{1, OutcomeWaiting, []phase{{StateQueued, 0, 90, true}}}},
		},
		{
			name: "waiting for a retry: a track for the attempt to come",
			job: Job{Status: StateRunnable, CreatedAt: at(0), StartedAt: at(5),
				Attempts: []Attempt{{StartedAt: at(5), StoppedAt: at(9), ExitCode: intp(2)}}},
			now: 30,
			want: []track{
				{1, OutcomeFailed, []phase{{StateQueued, 0, 5, false}, {StateRunning, 5, 9, false}}},
				{2, OutcomeWaiting, []phase{{StateQueued, 9, 30, true}}},
			},
		},
		{
			name: "failed before it started",
			job:  Job{Status: StateFailed, CreatedAt: at(0), StoppedAt: at(12)},
			now:  60,
			want: []track{{1, OutcomeFailed, []phase{{StateQueued, 0, 12, false}}}},
		},
		{
			name: "unknown creation: no lifecycle",
			job:  Job{Status: StateSucceeded},
			now:  60,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tracksOf(tt.job.Lifecycle(at(tt.now)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Lifecycle (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobTimes(t *testing.T) {
	retry, _ := retryJob()
	if got := retry.Started(); !got.Equal(at(41.2)) {
		t.Errorf("Started() = %v, want the first attempt's start %v", got, at(41.2))
	}
	running := Job{Status: StateRunning, CreatedAt: at(0), StartedAt: at(1)}
	if got := running.End(at(50)); !got.Equal(at(50)) {
		t.Errorf("End() of a running job = %v, want now", got)
	}
	if got, want := childRunTime(running, at(50)), 49*time.Second; got != want {
		t.Errorf("childRunTime = %v, want %v", got, want)
	}
}
