package traces

import (
	"testing"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
)

// inProgressTrace is what a job sends before it ends: its root segment in
// progress, and the subsegment it completed so far, streamed on its own.
func inProgressTrace() *Trace {
	return NewTrace("1-6a000000-000000000000000000000001", []Document{
		{ID: "r1", Name: "BatchJob", StartTime: seconds(at(2)), InProgress: true, Annotations: map[string]any{"job_id": "j", "attempt": float64(1)}},
		{ID: "s1", Type: "subsegment", ParentID: "r1", Name: "fetch", StartTime: seconds(at(2.5)), EndTime: seconds(at(3))},
	})
}

// stateJob is the job of inProgressTrace, RUNNING or FAILED after Batch
// killed its attempt for memory.
func stateJob(s jobs.State) jobs.Job {
	j := jobs.Job{ID: "j", Name: "etl", Queue: "q", CreatedAt: at(0), StartedAt: at(2), MaxAttempts: 1, Status: s}
	if s == jobs.Running {
		j.Attempts = []jobs.Attempt{{StartedAt: at(2)}}
		return j
	}
	j.StoppedAt = at(9)
	j.StatusReason = "Essential container in task exited"
	j.Attempts = []jobs.Attempt{{StartedAt: at(2), StoppedAt: at(9), Reason: "OutOfMemoryError: Container killed due to memory usage"}}
	return j
}

func TestRunningAndKilled(t *testing.T) {
	runningJob, killedJob := stateJob(jobs.Running), stateJob(jobs.Failed)

	tests := []struct {
		name   string
		v      View
		killed []KilledAttempt
	}{
		{"running", View{Job: runningJob, Traces: []*Trace{inProgressTrace()}}, nil},
		{"killed", View{Job: killedJob, Traces: []*Trace{inProgressTrace()}}, []KilledAttempt{{Attempt: 1, Reason: "OutOfMemoryError: Container killed due to memory usage"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff(t, "killed", tt.killed, Killed(tt.v))
			golden.AssertString(t, "state-"+tt.name+".golden", Render(tt.v, Options{Width: 90, Now: at(10)}))
		})
	}
}
