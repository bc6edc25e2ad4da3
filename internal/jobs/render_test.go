package jobs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/ui"
)

// observe builds a Job as the waiter would: each detail seen at its offset
// from t0.
func observe(steps ...step) *Job {
	j := &Job{}
	for _, s := range steps {
		j.Update(s.d, t0.Add(s.at))
	}
	return j
}

type step struct {
	at time.Duration
	d  types.JobDetail
}

const exited = "Essential container in task exited"

// renderCases are jobs at interesting points of their lives, with the time
// they are drawn at.
func renderCases() map[string]struct {
	j   *Job
	now time.Time
} {
	retrying := []func(*types.JobDetail){retries(3), started(9000), attempt(2000, 6000, 1, exited)}
	failedChildren := []FailedChild{{ID: "arr:3", Index: 3, ExitCode: aws.Int(2), StatusReason: exited}, {ID: "arr:41", Index: 41, ExitCode: aws.Int(137), StatusReason: "Job attempt duration exceeded timeout"}}
	arr := observe(
		step{0, detail("arr", types.JobStatusPending, array(50, map[string]int32{"PENDING": 50}))},
		step{3 * time.Second, detail("arr", types.JobStatusFailed, array(50, map[string]int32{"SUCCEEDED": 48, "FAILED": 2}), started(1500), stopped(65000, 0, "2 of 50 child jobs failed"))},
	)
	arr.Array.FailedChildren = failedChildren
	return map[string]struct {
		j   *Job
		now time.Time
	}{
		"running": {observe(
			step{0, detail("a", types.JobStatusSubmitted, retrying[:1]...)},
			step{500 * time.Millisecond, detail("a", types.JobStatusRunnable, retrying[:1]...)},
			step{1500 * time.Millisecond, detail("a", types.JobStatusStarting, retrying[:1]...)},
			step{2500 * time.Millisecond, detail("a", types.JobStatusRunning, retries(3), started(2000))},
			step{6500 * time.Millisecond, detail("a", types.JobStatusRunnable, retries(3), started(2000), attempt(2000, 6000, 1, exited))},
			step{9500 * time.Millisecond, detail("a", types.JobStatusRunning, retrying...)},
		), t0.Add(75 * time.Second)},
		"succeeded": {observe(
			step{0, detail("a", types.JobStatusRunnable)},
			step{time.Second, detail("a", types.JobStatusStarting)},
			step{3 * time.Second, detail("a", types.JobStatusSucceeded, started(2200), stopped(4100, 0, exited), attempt(2200, 4100, 0, exited))},
		), t0.Add(5 * time.Second)},
		"failed": {observe(
			step{0, detail("a", types.JobStatusSubmitted, retries(2))},
			step{2 * time.Second, detail("a", types.JobStatusFailed, retries(2), started(8000), stopped(9000, 3, exited), attempt(1000, 4000, 3, exited), attempt(8000, 9000, 3, exited))},
		), t0.Add(10 * time.Second)},
		"array": {observe(
			step{0, detail("arr", types.JobStatusPending, array(50, map[string]int32{"PENDING": 50}))},
			step{2 * time.Second, detail("arr", types.JobStatusPending, array(50, map[string]int32{"RUNNABLE": 20, "RUNNING": 10, "SUCCEEDED": 19, "FAILED": 1}), started(1500))},
		), t0.Add(2 * time.Second)},
		"array-failed": {arr, t0.Add(70 * time.Second)},
	}
}

func TestRenderGoldens(t *testing.T) {
	for name, c := range renderCases() {
		for _, tty := range []bool{false, true} {
			mode := "plain"
			if tty {
				mode = "tty"
			}
			t.Run(name+"/"+mode, func(t *testing.T) {
				st := ui.NewStyles(&bytes.Buffer{}, tty)
				live := LiveLine(c.j, c.now, 100, st) + "\n" + LiveLine(c.j, c.now, 40, st) + "\n"
				golden.AssertString(t, "live_"+name+"_"+mode+".golden", live)
				golden.AssertString(t, "summary_"+name+"_"+mode+".golden", Summary(c.j, c.now, st))
			})
		}
	}
}

func TestTransitionLines(t *testing.T) {
	st := ui.NewStyles(&bytes.Buffer{}, false)
	j := &Job{}
	var lines []string
	for _, s := range []step{
		{0, detail("a", types.JobStatusSubmitted, retries(2))},
		{500 * time.Millisecond, detail("a", types.JobStatusRunnable, retries(2))},
		{1500 * time.Millisecond, detail("a", types.JobStatusRunnable, retries(2))},
		{3500 * time.Millisecond, detail("a", types.JobStatusRunning, retries(2), started(3000))},
		{7500 * time.Millisecond, detail("a", types.JobStatusFailed, retries(2), started(3000), stopped(5000, 3, exited), attempt(3000, 5000, 3, exited))},
	} {
		if j.Update(s.d, t0.Add(s.at)) {
			lines = append(lines, TransitionLine(j, st))
		}
	}
	arr := observe(step{2 * time.Second, detail("arr", types.JobStatusPending, array(50, map[string]int32{"RUNNING": 10, "SUCCEEDED": 40}))})
	lines = append(lines, ArrayLine(arr, t0.Add(2*time.Second), st))
	golden.AssertString(t, "transitions.golden", strings.Join(lines, "\n")+"\n")
}

func TestLiveLineMany(t *testing.T) {
	st := ui.NewStyles(&bytes.Buffer{}, false)
	js := []*Job{
		observe(step{0, detail("a", types.JobStatusRunning)}),
		observe(step{0, detail("b", types.JobStatusRunning)}),
		observe(step{0, detail("c", types.JobStatusFailed)}),
	}
	diff(t, "line", "3 jobs: 2 RUNNING · 1 FAILED", LiveLineMany(js, t0, 80, st))
}

func TestReportJSON(t *testing.T) {
	c := renderCases()["failed"]
	b, err := json.MarshalIndent(NewReport(c.j, c.now), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.AssertString(t, "report_failed.json", string(b)+"\n")
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0.0s",
		450 * time.Millisecond:                "0.5s",
		59*time.Second + 940*time.Millisecond: "59.9s",
		61 * time.Second:                      "1m01s",
		time.Hour + 90*time.Second:            "1h02m",
	} {
		diff(t, d.String(), want, FormatDuration(d))
	}
}
