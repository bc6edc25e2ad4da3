//go:build unix

package batch_test

import (
	"errors"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbatch "github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/localaws"
)

// TestTerminateKillsAfterTheGrace: a process that ignores SIGTERM is
// killed once ECS's 30 seconds are over.
func TestTerminateKillsAfterTheGrace(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("stubborn", []string{"sh", "-c", `trap "" TERM; echo ready; sleep 600`}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	j, _ := f.waitFor(id, types.JobStatusRunning)
	f.waitForLine("/aws/batch/job", aws.ToString(j.Container.LogStreamName), "ready")
	if _, err := f.batch.TerminateJob(f.ctx, &awsbatch.TerminateJobInput{JobId: aws.String(id), Reason: aws.String("go away")}); err != nil {
		t.Fatalf("TerminateJob: %v", err)
	}
	f.clock.Advance(29 * time.Second)
	if j := f.job(id); j.Status != types.JobStatusRunning {
		t.Fatalf("job ignoring SIGTERM is %s before the grace is over, want RUNNING", j.Status)
	}
	f.clock.Advance(time.Second)
	j, _ = f.waitFor(id, types.JobStatusFailed)
	if got := aws.ToInt32(j.Container.ExitCode); got != 137 || aws.ToString(j.StatusReason) != "go away" {
		t.Errorf("exit %d reason %q, want 137 (SIGKILL) and the terminate reason", got, aws.ToString(j.StatusReason))
	}
}

// TestCloseKillsRunningJobs: stopping the stand-in leaves no job process
// behind.
func TestCloseKillsRunningJobs(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("sleeper", []string{"sh", "-c", `echo $$; exec sleep 600`}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	j, _ := f.waitFor(id, types.JobStatusRunning)
	line := f.waitForLine("/aws/batch/job", aws.ToString(j.Container.LogStreamName), "")
	pid, err := strconv.Atoi(line)
	if err != nil {
		t.Fatalf("pid line %q: %v", line, err)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("job process %d is not running before Close: %v", pid, err)
	}
	_ = f.srv.Close()
	// Close has reaped the process: it no longer exists.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("job process %d after Close: %v, want ESRCH", pid, err)
	}
}

// waitForLine waits (in real time: the process writes it) until the stream
// has a line, and returns the first one; want != "" waits for that line.
func (f *fixture) waitForLine(group, stream, want string) string {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if lines := f.logLinesIfAny(group, stream); len(lines) > 0 && (want == "" || lines[0] == want) {
			return lines[0]
		}
	}
	f.t.Fatalf("no line %q in %s %s", want, group, stream)
	return ""
}

// TestDeletingTheQueueStopsItsRunningJob: a queue deleted under a RUNNING
// job takes the job's process with it, and the job stays FAILED.
func TestDeletingTheQueueStopsItsRunningJob(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	// On SIGTERM the job would exit 0: only a FAILED that sticks passes.
	def := f.define("sleeper", []string{"sh", "-c", `trap "exit 0" TERM; echo $$; sleep 600 & wait`}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	j, _ := f.waitFor(id, types.JobStatusRunning)
	pid, err := strconv.Atoi(f.waitForLine("/aws/batch/job", aws.ToString(j.Container.LogStreamName), ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.batch.UpdateJobQueue(f.ctx, &awsbatch.UpdateJobQueueInput{JobQueue: aws.String("q"), State: types.JQStateDisabled}); err != nil {
		t.Fatalf("UpdateJobQueue: %v", err)
	}
	f.clock.Advance(ceDelay)
	if _, err := f.batch.DeleteJobQueue(f.ctx, &awsbatch.DeleteJobQueueInput{JobQueue: aws.String("q")}); err != nil {
		t.Fatalf("DeleteJobQueue: %v", err)
	}
	f.clock.Advance(ceDelay)
	if j := f.job(id); j.Status != types.JobStatusFailed {
		t.Fatalf("job is %s after its queue was deleted, want FAILED", j.Status)
	}
	// The process is gone (reaped in real time; bounded, not timed).
	gone := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			gone = true
			break
		}
		runtime.Gosched()
	}
	if !gone {
		t.Errorf("job process %d still runs after its queue was deleted", pid)
	}
	f.clock.Advance(step)
	if j := f.job(id); j.Status != types.JobStatusFailed || aws.ToString(j.StatusReason) != "Job queue deleted" {
		t.Errorf("job is %s (%q) once its process ended, want FAILED \"Job queue deleted\"", j.Status, aws.ToString(j.StatusReason))
	}
}
