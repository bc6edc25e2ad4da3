package batch_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbatch "github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
)

func TestJobStatePaths(t *testing.T) {
	tests := []struct {
		name    string
		command []string
		mod     func(*awsbatch.SubmitJobInput)
		// act runs once the job is RUNNING (nil: just wait).
		act        func(f *fixture, id string)
		want       types.JobStatus
		reason     string
		exitCodes  []int32
		isTermated bool
	}{
		{
			name: "success", command: []string{"true"},
			want: types.JobStatusSucceeded, reason: "Essential container in task exited", exitCodes: []int32{0},
		},
		{
			name: "failure", command: []string{"sh", "-c", "exit 3"},
			want: types.JobStatusFailed, reason: "Essential container in task exited", exitCodes: []int32{3},
		},
		{
			name: "retry then success", command: []string{"sh", "-c", `test "$AWS_BATCH_JOB_ATTEMPT" -ge 2 || exit 7`},
			mod: func(in *awsbatch.SubmitJobInput) {
				in.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(3)}
			},
			want: types.JobStatusSucceeded, reason: "Essential container in task exited", exitCodes: []int32{7, 0},
		},
		{
			name: "retries used up", command: []string{"sh", "-c", "exit 7"},
			mod: func(in *awsbatch.SubmitJobInput) {
				in.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(2)}
			},
			want: types.JobStatusFailed, reason: "Essential container in task exited", exitCodes: []int32{7, 7},
		},
		{
			name: "evaluateOnExit EXIT stops retrying", command: []string{"sh", "-c", "exit 7"},
			mod: func(in *awsbatch.SubmitJobInput) {
				in.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(3), EvaluateOnExit: []types.EvaluateOnExit{
					{OnExitCode: aws.String("7"), Action: types.RetryActionExit},
				}}
			},
			want: types.JobStatusFailed, reason: "Essential container in task exited", exitCodes: []int32{7},
		},
		{
			name: "timeout", command: []string{"sleep", "600"},
			mod: func(in *awsbatch.SubmitJobInput) {
				in.Timeout = &types.JobTimeout{AttemptDurationSeconds: aws.Int32(60)}
			},
			act:  func(f *fixture, _ string) { f.clock.Advance(60 * 1e9) },
			want: types.JobStatusFailed, reason: "Job attempt duration exceeded timeout", exitCodes: []int32{143},
		},
		{
			// Retries left do not retry a timed-out attempt.
			name: "timeout is not retried", command: []string{"sleep", "600"},
			mod: func(in *awsbatch.SubmitJobInput) {
				in.Timeout = &types.JobTimeout{AttemptDurationSeconds: aws.Int32(60)}
				in.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(3)}
			},
			act:  func(f *fixture, _ string) { f.clock.Advance(60 * 1e9) },
			want: types.JobStatusFailed, reason: "Job attempt duration exceeded timeout", exitCodes: []int32{143},
		},
		{
			name: "terminate", command: []string{"sleep", "600"},
			act: func(f *fixture, id string) {
				if _, err := f.batch.TerminateJob(f.ctx, &awsbatch.TerminateJobInput{JobId: aws.String(id), Reason: aws.String("stopped by the test")}); err != nil {
					t.Fatalf("TerminateJob: %v", err)
				}
			},
			want: types.JobStatusFailed, reason: "stopped by the test", exitCodes: []int32{143}, isTermated: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t, localaws.Options{})
			f.stack("q", 4)
			def := f.define("d", tt.command, nil)
			in := &awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}
			if tt.mod != nil {
				tt.mod(in)
			}
			id := f.submit(in)
			var seen []types.JobStatus
			if tt.act != nil {
				_, seen = f.waitFor(id, types.JobStatusRunning)
				tt.act(f, id)
			}
			j, more := f.waitFor(id, tt.want)
			seen = append(seen, more...)
			if !slices.Contains(seen, types.JobStatusSubmitted) || !slices.Contains(seen, types.JobStatusRunnable) || !slices.Contains(seen, types.JobStatusStarting) {
				t.Errorf("seen %v, want SUBMITTED, RUNNABLE and STARTING on the way", seen)
			}
			if len(tt.exitCodes) == 1 && !inOrder(seen) {
				t.Errorf("seen %v, not in Batch's order", seen)
			}
			if got := aws.ToString(j.StatusReason); got != tt.reason {
				t.Errorf("statusReason = %q, want %q", got, tt.reason)
			}
			var codes []int32
			for _, a := range j.Attempts {
				codes = append(codes, aws.ToInt32(a.Container.ExitCode))
				if a.StartedAt == nil || a.StoppedAt == nil || *a.StoppedAt < *a.StartedAt {
					t.Errorf("attempt times %v..%v", a.StartedAt, a.StoppedAt)
				}
				if !strings.HasPrefix(aws.ToString(a.Container.LogStreamName), "d/default/") {
					t.Errorf("attempt log stream %q", aws.ToString(a.Container.LogStreamName))
				}
			}
			if diff := cmp.Diff(tt.exitCodes, codes); diff != "" {
				t.Errorf("attempt exit codes (-want +got):\n%s", diff)
			}
			if got := aws.ToInt32(j.Container.ExitCode); got != tt.exitCodes[len(tt.exitCodes)-1] {
				t.Errorf("container exitCode = %d", got)
			}
			if *j.CreatedAt > *j.StartedAt || *j.StartedAt > *j.StoppedAt {
				t.Errorf("createdAt %d, startedAt %d, stoppedAt %d out of order", *j.CreatedAt, *j.StartedAt, *j.StoppedAt)
			}
			if got := aws.ToBool(j.IsTerminated); got != tt.isTermated {
				t.Errorf("isTerminated = %v, want %v", got, tt.isTermated)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	sleeper := f.define("sleeper", []string{"sleep", "600"}, nil)
	quick := f.define("quick", []string{"true"}, nil)
	running := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("a"), JobQueue: aws.String("q"), JobDefinition: aws.String(sleeper)})
	f.waitFor(running, types.JobStatusRunning)
	waiting := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("b"), JobQueue: aws.String("q"), JobDefinition: aws.String(quick),
		DependsOn: []types.JobDependency{{JobId: aws.String(running)}}})
	f.waitFor(waiting, types.JobStatusPending)

	for _, id := range []string{waiting, running} {
		if _, err := f.batch.CancelJob(f.ctx, &awsbatch.CancelJobInput{JobId: aws.String(id), Reason: aws.String("not needed")}); err != nil {
			t.Fatalf("CancelJob %s: %v", id, err)
		}
	}
	j := f.job(waiting)
	if j.Status != types.JobStatusFailed || aws.ToString(j.StatusReason) != "not needed" || !aws.ToBool(j.IsCancelled) {
		t.Errorf("cancelled PENDING job: %s %q cancelled=%v, want FAILED \"not needed\" true", j.Status, aws.ToString(j.StatusReason), aws.ToBool(j.IsCancelled))
	}
	// CancelJob leaves a job that is already RUNNING alone, and succeeds.
	if j := f.job(running); j.Status != types.JobStatusRunning || aws.ToBool(j.IsCancelled) {
		t.Errorf("cancelled RUNNING job: %s cancelled=%v, want still RUNNING", j.Status, aws.ToBool(j.IsCancelled))
	}
}

func TestArrayJobWithOneFailingChild(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 8)
	def := f.define("d", []string{"sh", "-c", `test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1`}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("arr"), JobQueue: aws.String("q"), JobDefinition: aws.String(def),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(3)}})
	parent, _ := f.waitFor(id, types.JobStatusFailed)
	want := map[string]int32{"SUBMITTED": 0, "PENDING": 0, "RUNNABLE": 0, "STARTING": 0, "RUNNING": 0, "SUCCEEDED": 2, "FAILED": 1}
	if diff := cmp.Diff(want, parent.ArrayProperties.StatusSummary); diff != "" {
		t.Errorf("statusSummary (-want +got):\n%s", diff)
	}
	if got := aws.ToInt32(parent.ArrayProperties.Size); got != 3 {
		t.Errorf("size = %d, want 3", got)
	}
	out, err := f.batch.ListJobs(f.ctx, &awsbatch.ListJobsInput{ArrayJobId: aws.String(id), Filters: []types.KeyValuesPair{{Name: aws.String("JOB_NAME"), Values: []string{"arr"}}}})
	if err != nil {
		t.Fatalf("ListJobs by arrayJobId: %v", err)
	}
	got := map[string]types.JobStatus{}
	for _, s := range out.JobSummaryList {
		got[aws.ToString(s.JobId)] = s.Status
		if want := id + ":" + itoa(aws.ToInt32(s.ArrayProperties.Index)); aws.ToString(s.JobId) != want {
			t.Errorf("child %s has index %d", aws.ToString(s.JobId), aws.ToInt32(s.ArrayProperties.Index))
		}
	}
	wantChildren := map[string]types.JobStatus{id + ":0": types.JobStatusSucceeded, id + ":1": types.JobStatusFailed, id + ":2": types.JobStatusSucceeded}
	if diff := cmp.Diff(wantChildren, got); diff != "" {
		t.Errorf("children (-want +got):\n%s", diff)
	}
	// The queue lists the parent only.
	byQueue, err := f.batch.ListJobs(f.ctx, &awsbatch.ListJobsInput{JobQueue: aws.String("q"), JobStatus: types.JobStatusFailed})
	if err != nil {
		t.Fatalf("ListJobs by queue: %v", err)
	}
	if len(byQueue.JobSummaryList) != 1 || aws.ToString(byQueue.JobSummaryList[0].JobId) != id {
		t.Errorf("ListJobs by queue FAILED = %+v, want the parent only", byQueue.JobSummaryList)
	}
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func TestSequentialArrayRunsChildrenInOrder(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 8)
	def := f.define("d", []string{"true"}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("seq"), JobQueue: aws.String("q"), JobDefinition: aws.String(def),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(3)},
		DependsOn:       []types.JobDependency{{Type: types.ArrayJobDependencySequential}}})
	f.waitFor(id, types.JobStatusSucceeded)
	for i := 1; i < 3; i++ {
		prev, cur := f.job(id+":"+itoa(int32(i-1))), f.job(id+":"+itoa(int32(i)))
		if *cur.StartedAt < *prev.StoppedAt {
			t.Errorf("child %d started at %d before child %d stopped at %d", i, *cur.StartedAt, i-1, *prev.StoppedAt)
		}
	}
}

func TestDependencyChain(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 8)
	ok := f.define("ok", []string{"true"}, nil)
	bad := f.define("bad", []string{"false"}, nil)
	a := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("a"), JobQueue: aws.String("q"), JobDefinition: aws.String(ok)})
	b := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("b"), JobQueue: aws.String("q"), JobDefinition: aws.String(ok),
		DependsOn: []types.JobDependency{{JobId: aws.String(a)}}})
	c := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("c"), JobQueue: aws.String("q"), JobDefinition: aws.String(ok),
		DependsOn: []types.JobDependency{{JobId: aws.String(b)}}})
	if j := f.job(c); j.Status != types.JobStatusSubmitted {
		t.Fatalf("c is %s right after submission, want SUBMITTED", j.Status)
	}
	_, seen := f.waitFor(c, types.JobStatusSucceeded)
	if !slices.Contains(seen, types.JobStatusPending) {
		t.Errorf("c seen %v, want PENDING while its dependencies run", seen)
	}
	ja, jb, jc := f.job(a), f.job(b), f.job(c)
	if *jb.StartedAt < *ja.StoppedAt || *jc.StartedAt < *jb.StoppedAt {
		t.Errorf("chain out of order: a stopped %d, b %d..%d, c started %d", *ja.StoppedAt, *jb.StartedAt, *jb.StoppedAt, *jc.StartedAt)
	}

	x := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("x"), JobQueue: aws.String("q"), JobDefinition: aws.String(bad)})
	y := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("y"), JobQueue: aws.String("q"), JobDefinition: aws.String(ok),
		DependsOn: []types.JobDependency{{JobId: aws.String(x)}}})
	jy, _ := f.waitFor(y, types.JobStatusFailed)
	if got := aws.ToString(jy.StatusReason); got != "Dependent Job failed" {
		t.Errorf("y statusReason = %q, want Dependent Job failed", got)
	}
	if len(jy.Attempts) != 0 {
		t.Errorf("y ran %d attempts, want none", len(jy.Attempts))
	}
}

func TestJobOutputGoesToLogs(t *testing.T) {
	t.Setenv("BATCHXRAY_TEST_LEAK", "leaked")
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("hello", []string{"sh", "-c", "echo hello; echo oops >&2; exit 3"}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	j, _ := f.waitFor(id, types.JobStatusFailed)
	stream := aws.ToString(j.Container.LogStreamName)
	if !regexp.MustCompile(`^hello/default/[0-9a-f]{32}$`).MatchString(stream) {
		t.Errorf("logStreamName = %q, want hello/default/<task id>", stream)
	}
	if aws.ToInt32(j.Container.ExitCode) != 3 || aws.ToString(j.StatusReason) != "Essential container in task exited" {
		t.Errorf("exit %d, reason %q", aws.ToInt32(j.Container.ExitCode), aws.ToString(j.StatusReason))
	}
	lines := f.logLines("/aws/batch/job", stream)
	slices.Sort(lines)
	if diff := cmp.Diff([]string{"hello", "oops"}, lines); diff != "" {
		t.Errorf("log events (-want +got):\n%s", diff)
	}

	// The job definition's awslogs group and prefix, and the environment:
	// Batch's and ECS's variables and the job's, no AWS_REGION of the
	// stand-in's own.
	envDef := f.define("env", []string{"sh", "-c", "env | sort"}, func(in *awsbatch.RegisterJobDefinitionInput) {
		in.ContainerProperties.Environment = []types.KeyValuePair{{Name: aws.String("FROM_DEF"), Value: aws.String("def")}, {Name: aws.String("OVERRIDDEN"), Value: aws.String("def")}}
		in.ContainerProperties.LogConfiguration = &types.LogConfiguration{LogDriver: types.LogDriverAwslogs,
			Options: map[string]string{"awslogs-group": "/batchxray/test", "awslogs-stream-prefix": "pre"}}
	})
	id = f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("env"), JobQueue: aws.String("q"), JobDefinition: aws.String(envDef),
		ContainerOverrides: &types.ContainerOverrides{Environment: []types.KeyValuePair{{Name: aws.String("OVERRIDDEN"), Value: aws.String("submit")}}}})
	j, _ = f.waitFor(id, types.JobStatusSucceeded)
	stream = aws.ToString(j.Container.LogStreamName)
	if !strings.HasPrefix(stream, "pre/default/") {
		t.Errorf("logStreamName = %q, want pre/default/<task id>", stream)
	}
	env := map[string]string{}
	for _, l := range f.logLines("/batchxray/test", stream) {
		k, v, _ := strings.Cut(l, "=")
		env[k] = v
	}
	delete(env, "PWD") // the shell sets these itself
	delete(env, "SHLVL")
	delete(env, "_")
	want := map[string]string{
		"PATH":                    env["PATH"],
		"FROM_DEF":                "def",
		"OVERRIDDEN":              "submit",
		"AWS_BATCH_JOB_ID":        id,
		"AWS_BATCH_JOB_ATTEMPT":   "1",
		"AWS_BATCH_JQ_NAME":       "q",
		"AWS_BATCH_CE_NAME":       "q",
		"AWS_ENDPOINT_URL":        f.srv.Endpoint(),
		"AWS_ACCESS_KEY_ID":       "batchxray-local",
		"AWS_SECRET_ACCESS_KEY":   "batchxray-local",
		"AWS_XRAY_DAEMON_ADDRESS": f.srv.DaemonAddr(),
	}
	if env["PATH"] == "" || f.srv.DaemonAddr() == "" {
		t.Errorf("PATH %q, daemon %q: want both set", env["PATH"], f.srv.DaemonAddr())
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("job environment (-want +got):\n%s", diff)
	}
}

func TestBatchxrayIsTheExecutable(t *testing.T) {
	script := t.TempDir() + "/fake-batchxray"
	writeScript(t, script, "#!/bin/sh\necho \"$0 $*\"\n")
	f := start(t, localaws.Options{Executable: script})
	f.stack("q", 4)
	def := f.define("self", []string{"batchxray", "job", "Ref::what"}, func(in *awsbatch.RegisterJobDefinitionInput) {
		in.Parameters = map[string]string{"what": "default"}
	})
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("self"), JobQueue: aws.String("q"), JobDefinition: aws.String(def),
		Parameters: map[string]string{"what": "given"}})
	j, _ := f.waitFor(id, types.JobStatusSucceeded)
	if diff := cmp.Diff([]string{script + " job given"}, f.logLines("/aws/batch/job", aws.ToString(j.Container.LogStreamName))); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestCommandThatCannotStartFails(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 4)
	def := f.define("missing", []string{"/nonexistent/command"}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("m"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	j, _ := f.waitFor(id, types.JobStatusFailed)
	if !strings.HasPrefix(aws.ToString(j.Container.Reason), "CannotStartContainerError") || aws.ToString(j.StatusReason) != "Task failed to start" {
		t.Errorf("reason %q, statusReason %q", aws.ToString(j.Container.Reason), aws.ToString(j.StatusReason))
	}
}

func TestConcurrencyIsBoundedByMaxvCpus(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 2)
	def := f.define("sleeper", []string{"sleep", "600"}, nil)
	var ids []string
	for range 3 {
		ids = append(ids, f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("s"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)}))
	}
	f.waitFor(ids[0], types.JobStatusRunning)
	f.waitFor(ids[1], types.JobStatusRunning)
	for range 20 {
		f.clock.Advance(step)
	}
	if j := f.job(ids[2]); j.Status != types.JobStatusRunnable {
		t.Fatalf("third job is %s with 2 of 2 vCPUs taken, want RUNNABLE", j.Status)
	}
	if _, err := f.batch.TerminateJob(f.ctx, &awsbatch.TerminateJobInput{JobId: aws.String(ids[0]), Reason: aws.String("make room")}); err != nil {
		t.Fatalf("TerminateJob: %v", err)
	}
	f.waitFor(ids[0], types.JobStatusFailed)
	f.waitFor(ids[2], types.JobStatusRunning)
}

func TestJobsWaitForAnEnabledComputeEnvironment(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 2)
	if _, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String("q"), State: types.CEStateDisabled}); err != nil {
		t.Fatalf("UpdateComputeEnvironment: %v", err)
	}
	def := f.define("d", []string{"true"}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("j"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	f.clock.Advance(ceDelay)
	for range 10 {
		f.clock.Advance(step)
	}
	if j := f.job(id); j.Status != types.JobStatusRunnable {
		t.Fatalf("job is %s on a DISABLED compute environment, want RUNNABLE", j.Status)
	}
	if _, err := f.batch.UpdateComputeEnvironment(f.ctx, &awsbatch.UpdateComputeEnvironmentInput{ComputeEnvironment: aws.String("q"), State: types.CEStateEnabled}); err != nil {
		t.Fatalf("UpdateComputeEnvironment: %v", err)
	}
	f.clock.Advance(ceDelay)
	f.waitFor(id, types.JobStatusSucceeded)
}

func TestNToNDependencyPairsChildren(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 8)
	def := f.define("d", []string{"sh", "-c", `test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1`}, nil)
	ok := f.define("ok", []string{"true"}, nil)
	a := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("a"), JobQueue: aws.String("q"), JobDefinition: aws.String(def),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(2)}})
	b := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("b"), JobQueue: aws.String("q"), JobDefinition: aws.String(ok),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(2)},
		DependsOn:       []types.JobDependency{{JobId: aws.String(a), Type: types.ArrayJobDependencyNToN}}})
	f.waitFor(b, types.JobStatusFailed)
	b0, b1 := f.job(b+":0"), f.job(b+":1")
	if b0.Status != types.JobStatusSucceeded || aws.ToString(b0.DependsOn[0].JobId) != a+":0" {
		t.Errorf("b:0 is %s depending on %v, want SUCCEEDED after a:0", b0.Status, b0.DependsOn)
	}
	if b1.Status != types.JobStatusFailed || aws.ToString(b1.StatusReason) != "Dependent Job failed" {
		t.Errorf("b:1 is %s (%s), want FAILED: Dependent Job failed", b1.Status, aws.ToString(b1.StatusReason))
	}
	// Arrays of different sizes cannot be paired.
	_, err := f.batch.SubmitJob(f.ctx, &awsbatch.SubmitJobInput{JobName: aws.String("c"), JobQueue: aws.String("q"), JobDefinition: aws.String(ok),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(3)},
		DependsOn:       []types.JobDependency{{JobId: aws.String(a), Type: types.ArrayJobDependencyNToN}}})
	clientException(t, err)
}

// TestArrayChildrenStartWhenTheyRun: children are created PENDING, and a
// child that waits for room starts (startedAt) when it runs, not when it
// became ready.
func TestArrayChildrenStartWhenTheyRun(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 1)
	// Child 0 runs until terminated; child 1 waits for its vCPU.
	def := f.define("d", []string{"sh", "-c", `[ "$AWS_BATCH_JOB_ARRAY_INDEX" = 1 ] || exec sleep 600`}, nil)
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("arr"), JobQueue: aws.String("q"), JobDefinition: aws.String(def),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(2)}})
	for _, c := range []string{id + ":0", id + ":1"} {
		if j := f.job(c); j.Status != types.JobStatusPending {
			t.Errorf("child %s is %s at submit, want PENDING", c, j.Status)
		}
	}
	f.waitFor(id+":0", types.JobStatusRunning)
	f.clock.Advance(52 * time.Second)
	if j := f.job(id + ":1"); j.Status != types.JobStatusRunnable {
		t.Fatalf("child 1 is %s while child 0 holds the only vCPU, want RUNNABLE", j.Status)
	}
	if _, err := f.batch.TerminateJob(f.ctx, &awsbatch.TerminateJobInput{JobId: aws.String(id + ":0"), Reason: aws.String("done")}); err != nil {
		t.Fatalf("TerminateJob: %v", err)
	}
	first, _ := f.waitFor(id+":0", types.JobStatusFailed)
	second, _ := f.waitFor(id+":1", types.JobStatusSucceeded)
	if *second.StartedAt < *first.StoppedAt {
		t.Errorf("child 1 startedAt %d is before child 0 stopped (%d): it shows the wait as run time", *second.StartedAt, *first.StoppedAt)
	}
}

// Batch stops returning a job some time after it ended: DescribeJobs
// leaves it out and ListJobs no longer lists it, while a younger one stays.
func TestFinishedJobsAreForgottenAfterTheRetention(t *testing.T) {
	f := start(t, localaws.Options{BatchRetention: time.Hour})
	f.stack("q", 2)
	def := f.define("d", []string{"true"}, nil)
	old := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("old"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	f.waitFor(old, types.JobStatusSucceeded)
	f.clock.Advance(30 * time.Minute)
	young := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("young"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	f.waitFor(young, types.JobStatusSucceeded)
	listed := func() []string {
		out, err := f.batch.ListJobs(f.ctx, &awsbatch.ListJobsInput{JobQueue: aws.String("q"), JobStatus: types.JobStatusSucceeded})
		if err != nil {
			t.Fatalf("ListJobs: %v", err)
		}
		var names []string
		for _, s := range out.JobSummaryList {
			names = append(names, aws.ToString(s.JobName))
		}
		return names
	}
	if got := listed(); len(got) != 2 {
		t.Fatalf("before the retention ListJobs lists %v, want both", got)
	}
	f.clock.Advance(31 * time.Minute)
	out, err := f.batch.DescribeJobs(f.ctx, &awsbatch.DescribeJobsInput{Jobs: []string{old, young}})
	if err != nil {
		t.Fatalf("DescribeJobs: %v", err)
	}
	if len(out.Jobs) != 1 || aws.ToString(out.Jobs[0].JobId) != young {
		t.Errorf("DescribeJobs returns %d jobs, want only the young one", len(out.Jobs))
	}
	if got := listed(); !slices.Equal(got, []string{"young"}) {
		t.Errorf("ListJobs lists %v after the old job's retention, want [young]", got)
	}
}

// A compute environment with maxvCpus 1 starts no second 1-vCPU job while
// one runs: the second waits in RUNNABLE, and starts when the vCPU is freed.
func TestOneVCPUQueuesTheSecondJobInRunnable(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 1)
	long := f.define("long", []string{"sleep", "600"}, nil)
	quick := f.define("quick", []string{"true"}, nil)
	first := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("first"), JobQueue: aws.String("q"), JobDefinition: aws.String(long)})
	f.waitFor(first, types.JobStatusRunning)
	second := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("second"), JobQueue: aws.String("q"), JobDefinition: aws.String(quick)})
	for range 50 {
		f.clock.Advance(step)
	}
	if j := f.job(second); j.Status != types.JobStatusRunnable {
		t.Fatalf("second job is %s while the first holds the one vCPU, want RUNNABLE", j.Status)
	}
	if _, err := f.batch.TerminateJob(f.ctx, &awsbatch.TerminateJobInput{JobId: aws.String(first), Reason: aws.String("make room")}); err != nil {
		t.Fatalf("TerminateJob: %v", err)
	}
	f.waitFor(second, types.JobStatusSucceeded)
}

// TestArrayParentPendingWithItsFirstRunnableChild: "An array parent job is
// updated to PENDING when any child job is updated to RUNNABLE", and it
// can only be SUBMITTED, PENDING, FAILED or SUCCEEDED (AWS Batch User
// Guide, Array jobs). The array waits on a dependency, so its children sit
// in PENDING first and the parent must stay SUBMITTED until one is RUNNABLE.
func TestArrayParentPendingWithItsFirstRunnableChild(t *testing.T) {
	f := start(t, localaws.Options{})
	f.stack("q", 8)
	def := f.define("d", []string{"true"}, nil)
	dep := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("first"), JobQueue: aws.String("q"), JobDefinition: aws.String(def)})
	id := f.submit(&awsbatch.SubmitJobInput{JobName: aws.String("arr"), JobQueue: aws.String("q"), JobDefinition: aws.String(def),
		ArrayProperties: &types.ArrayProperties{Size: aws.Int32(2)},
		DependsOn:       []types.JobDependency{{JobId: aws.String(dep)}}})
	ids := []string{id, id + ":0", id + ":1"}
	var seen []types.JobStatus
	sawChildPending := false
	deadline := time.Now().Add(30 * time.Second)
	for {
		// One call, so parent and children are read in one state of the
		// scheduler (it moves only when the fake clock does).
		out, err := f.batch.DescribeJobs(f.ctx, &awsbatch.DescribeJobsInput{Jobs: ids})
		if err != nil || len(out.Jobs) != 3 {
			t.Fatalf("DescribeJobs: %v (%d jobs)", err, len(out.Jobs))
		}
		var parent types.JobStatus
		beyond := false // a child RUNNABLE or later
		for _, j := range out.Jobs {
			switch {
			case aws.ToString(j.JobId) == id:
				parent = j.Status
			case j.Status == types.JobStatusPending:
				sawChildPending = true
			case j.Status != types.JobStatusSubmitted:
				beyond = true
			}
		}
		if len(seen) == 0 || seen[len(seen)-1] != parent {
			seen = append(seen, parent)
		}
		if parent == types.JobStatusSubmitted && beyond {
			t.Fatalf("parent still SUBMITTED with a child RUNNABLE or later")
		}
		if parent == types.JobStatusPending && !beyond {
			t.Fatalf("parent PENDING while no child is RUNNABLE yet")
		}
		if parent == types.JobStatusSucceeded || parent == types.JobStatusFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("parent still %s; seen %v", parent, seen)
		}
		f.clock.Advance(step)
	}
	if want := []types.JobStatus{types.JobStatusSubmitted, types.JobStatusPending, types.JobStatusSucceeded}; !slices.Equal(seen, want) {
		t.Errorf("parent seen %v, want %v", seen, want)
	}
	if !sawChildPending {
		t.Errorf("no child was seen PENDING on its dependency: the test did not test the wait")
	}
}
