package traces

import (
	"strings"
	"testing"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
)

// A job whose states come from Batch's events draws SUBMITTED, RUNNABLE
// and STARTING apart, each with its own glyph, and says where they come
// from; the same job from DescribeJobs alone draws them merged as queued.
func TestLifecycleFromEventsGolden(t *testing.T) {
	fromEvents := nightlyJob()
	fromEvents.Transitions = []jobs.Transition{
		{State: jobs.Runnable, At: at(1)},
		{State: jobs.Starting, At: at(38), Reason: ""},
		{State: jobs.Running, At: at(41.2)},
		{State: jobs.Succeeded, At: at(48.1), Reason: "Essential container in task exited"},
	}
	fromEvents.FromEvents = true
	tests := []struct {
		name string
		job  jobs.Job
		want []string
	}{
		{"lifecycle-events-100", fromEvents, []string{"▓ runnable", "▒ starting", "states from Batch's job events"}},
		{"lifecycle-describejobs-100", nightlyJob(), []string{"░ queued", "states from DescribeJobs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Render(View{Job: tt.job, Traces: loadTraces(t, "batchgettraces-job.json")}, Options{Width: 100, Now: at(3600)})
			checkWidths(t, got, 100)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("drawing lacks %q", w)
				}
			}
			golden.AssertString(t, tt.name+".golden", got)
		})
	}
}
