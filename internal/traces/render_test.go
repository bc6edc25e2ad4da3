package traces

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
)

// t0 is when the fixtures' jobs were created.
var t0 = time.Unix(1764040000, 0).UTC()

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func intp(i int) *int { return &i }

// batchGetTracesFile is the shape of a recorded BatchGetTraces response.
type batchGetTracesFile struct {
	Traces []struct {
		ID       string `json:"Id"`
		Segments []struct {
			ID       string `json:"Id"`
			Document string `json:"Document"`
		} `json:"Segments"`
	} `json:"Traces"`
}

// loadTraces parses a recorded BatchGetTraces response from the shared
// testdata directory.
func loadTraces(t testing.TB, name string) []*Trace {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xray", name))
	if err != nil {
		t.Fatal(err)
	}
	var f batchGetTracesFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []*Trace
	for _, tr := range f.Traces {
		docs := make([]string, len(tr.Segments))
		for i, s := range tr.Segments {
			docs[i] = s.Document
		}
		p, err := ParseTrace(tr.ID, docs)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// nightlyJob is the job of the recorded trace: queued 41.2 s, ran once.
func nightlyJob() jobs.Job {
	return jobs.Job{
		ID:          "8f2c6d1e-4b7a-4c1d-9e3f-2a5b6c7d8e9f",
		Name:        "nightly-report",
		Queue:       "batch-xray-queue",
		Status:      jobs.Succeeded,
		CreatedAt:   at(0),
		StartedAt:   at(41.2),
		StoppedAt:   at(48.1),
		Attempts:    []jobs.Attempt{{StartedAt: at(41.2), StoppedAt: at(48.1), ExitCode: intp(0)}},
		MaxAttempts: 1,
	}
}

// retryJob failed its first attempt and succeeded on the second, with every
// transition observed.
func retryJob() (jobs.Job, []*Trace) {
	j := jobs.Job{
		ID:           "c0ffee00-1111-4222-8333-444455556666",
		Name:         "flaky-import",
		Queue:        "batch-xray-queue",
		Status:       jobs.Succeeded,
		StatusReason: "Essential container in task exited",
		CreatedAt:    at(0),
		StartedAt:    at(58.3),
		StoppedAt:    at(66),
		MaxAttempts:  2,
		Attempts: []jobs.Attempt{
			{StartedAt: at(41.2), StoppedAt: at(47), ExitCode: intp(1), Reason: "Essential container in task exited"},
			{StartedAt: at(58.3), StoppedAt: at(66), ExitCode: intp(0)},
		},
		Transitions: []jobs.Transition{
			{State: jobs.Submitted, At: at(0)}, {State: jobs.Pending, At: at(0.4)}, {State: jobs.Runnable, At: at(0.9)},
			{State: jobs.Starting, At: at(30)}, {State: jobs.Running, At: at(41.2)}, {State: jobs.Runnable, At: at(47)},
			{State: jobs.Starting, At: at(55)}, {State: jobs.Running, At: at(58.3)}, {State: jobs.Succeeded, At: at(66)},
		},
	}
	s := func(x float64) float64 { return seconds(at(x)) }
	one := NewTrace("1-69251d69-aaaaaaaaaaaaaaaaaaaaaaaa", []Document{{
		ID: "a000000000000001", Name: "BatchJob", StartTime: s(41.5), EndTime: s(46.8), Fault: true,
		Annotations: map[string]any{"job_id": j.ID, "attempt": float64(1)},
		Cause:       &Cause{Exceptions: []Exception{{Message: "exit status 1", Type: "*exec.ExitError"}}},
		Subsegments: []Document{
			{ID: "a000000000000002", Name: "S3", Namespace: "aws", StartTime: s(41.6), EndTime: s(42.1),
				AWS: map[string]any{"operation": "GetObject"}, HTTP: &HTTP{Response: &HTTPResponse{Status: 200}}},
			{ID: "a000000000000003", Name: "import", StartTime: s(42.1), EndTime: s(46.7), Fault: true},
		},
	}})
	two := NewTrace("1-69251d7e-bbbbbbbbbbbbbbbbbbbbbbbb", []Document{{
		ID: "b000000000000001", Name: "BatchJob", StartTime: s(58.6), EndTime: s(65.8),
		Annotations: map[string]any{"job_id": j.ID, "attempt": float64(2)},
		Subsegments: []Document{
			{ID: "b000000000000002", Name: "S3", Namespace: "aws", StartTime: s(58.7), EndTime: s(59.1),
				AWS: map[string]any{"operation": "GetObject"}, HTTP: &HTTP{Response: &HTTPResponse{Status: 200}}},
			{ID: "b000000000000003", Name: "import", StartTime: s(59.1), EndTime: s(65.7)},
		},
	}})
	return j, []*Trace{one, two}
}

// shortRunView is the demo's job: queued 300 ms, ran 712 ms, and traced
// 5 ms in submit's segment and 8.7 ms in the job's, which hangs under it.
func shortRunView() View {
	j := jobs.Job{
		ID: "2f495275-b3ce-4c2a-b5d6-4ee5619530ca", Name: "batchxray", Queue: "demo-queue", Status: jobs.Succeeded,
		CreatedAt: at(0), StartedAt: at(0.3), StoppedAt: at(1.012), MaxAttempts: 1,
		Attempts: []jobs.Attempt{{StartedAt: at(0.3), StoppedAt: at(1.012), ExitCode: intp(0)}},
	}
	s := func(x float64) float64 { return seconds(at(x)) }
	submit := Document{ID: "5000000000000001", Name: "batchxray submit", StartTime: s(-0.0002), EndTime: s(0.0048),
		Subsegments: []Document{{ID: "5000000000000002", Name: "Batch", Namespace: "aws", StartTime: s(0.0008), EndTime: s(0.0044),
			AWS: map[string]any{"operation": "SubmitJob"}, HTTP: &HTTP{Response: &HTTPResponse{Status: 200}}}}}
	job := Document{ID: "6000000000000001", ParentID: "5000000000000001", Name: "BatchJob", StartTime: s(1.0011), EndTime: s(1.0098),
		Annotations: map[string]any{"job_id": j.ID, "attempt": float64(1)},
		Subsegments: []Document{
			{ID: "6000000000000002", Name: "fetch", StartTime: s(1.0013), EndTime: s(1.0030), Subsegments: []Document{
				{ID: "6000000000000003", Name: "127.0.0.1:37157", Namespace: "remote", StartTime: s(1.0013), EndTime: s(1.0030),
					HTTP: &HTTP{Request: &HTTPRequest{Method: "GET"}, Response: &HTTPResponse{Status: 200}}},
			}},
			{ID: "6000000000000004", Name: "upload", StartTime: s(1.0031), EndTime: s(1.0067), Subsegments: []Document{
				{ID: "6000000000000005", Name: "S3", Namespace: "aws", StartTime: s(1.0032), EndTime: s(1.0067),
					AWS: map[string]any{"operation": "PutObject"}, HTTP: &HTTP{Response: &HTTPResponse{Status: 200}}},
			}},
		}}
	return View{Job: j, Traces: []*Trace{NewTrace("1-6b0f4da7-693b2441ea9cd6ff7d4be72a", []Document{submit, job})}}
}

// longRunView is the reverse: queued 300 ms, ran a minute, traced all of
// it, so the spans keep the lifecycle's axis.
func longRunView() View {
	j := jobs.Job{
		ID: "7a7a7a7a-0000-4000-8000-000000000001", Name: "crunch", Queue: "demo-queue", Status: jobs.Succeeded,
		CreatedAt: at(0), StartedAt: at(0.3), StoppedAt: at(60.3), MaxAttempts: 1,
		Attempts: []jobs.Attempt{{StartedAt: at(0.3), StoppedAt: at(60.3), ExitCode: intp(0)}},
	}
	s := func(x float64) float64 { return seconds(at(x)) }
	job := Document{ID: "7000000000000001", Name: "BatchJob", StartTime: s(0.6), EndTime: s(60.1),
		Annotations: map[string]any{"job_id": j.ID, "attempt": float64(1)},
		Subsegments: []Document{
			{ID: "7000000000000002", Name: "S3", Namespace: "aws", StartTime: s(0.7), EndTime: s(2.1),
				AWS: map[string]any{"operation": "GetObject"}, HTTP: &HTTP{Response: &HTTPResponse{Status: 200}}},
			{ID: "7000000000000003", Name: "crunch", StartTime: s(2.1), EndTime: s(58.2)},
			{ID: "7000000000000004", Name: "S3", Namespace: "aws", StartTime: s(58.2), EndTime: s(60),
				AWS: map[string]any{"operation": "PutObject"}, HTTP: &HTTP{Response: &HTTPResponse{Status: 200}}},
		}}
	return View{Job: j, Traces: []*Trace{NewTrace("1-6b0f4da8-aaaaaaaaaaaaaaaaaaaaaaaa", []Document{job})}}
}

// arrayView is an array parent of eight children in every state.
func arrayView() View {
	parent := jobs.Job{
		ID: "5e6f7a8b-0000-4000-8000-000000000000", Name: "render-frames", Queue: "batch-xray-queue", Status: jobs.Running,
		CreatedAt: at(0), StartedAt: at(12), Attempts: []jobs.Attempt{}, MaxAttempts: 1,
		Array: &jobs.Array{Size: 8, Counts: map[jobs.State]int{
			jobs.Succeeded: 4, jobs.Failed: 1, jobs.Running: 1, jobs.Starting: 1, jobs.Runnable: 1,
		}},
	}
	child := func(i int, status jobs.State, start, stop float64, tr ...*Trace) ChildTrace {
		j := jobs.Job{ID: fmt.Sprintf("%s:%d", parent.ID, i), Name: parent.Name, Status: status,
			CreatedAt: at(0), ArrayIndex: intp(i)}
		if start > 0 {
			j.StartedAt = at(start)
		}
		if stop > 0 {
			j.StoppedAt = at(stop)
		}
		return ChildTrace{Job: j, Traces: tr}
	}
	ok := func(id string, spans int) *Trace {
		d := Document{ID: id + "0", Name: "BatchJob", StartTime: seconds(at(13)), EndTime: seconds(at(14))}
		for i := 1; i < spans; i++ {
			d.Subsegments = append(d.Subsegments, Document{ID: fmt.Sprintf("%s%d", id, i), Name: "S3", Namespace: "aws",
				StartTime: seconds(at(13)), EndTime: seconds(at(13.5)), AWS: map[string]any{"operation": "PutObject"}})
		}
		return NewTrace("1-"+id, []Document{d})
	}
	bad := NewTrace("1-bad", []Document{{ID: "f0", Name: "BatchJob", StartTime: seconds(at(13)), EndTime: seconds(at(40)), Fault: true,
		Subsegments: []Document{
			{ID: "f1", Name: "S3", Namespace: "aws", Fault: true, StartTime: seconds(at(13)), EndTime: seconds(at(14)), AWS: map[string]any{"operation": "PutObject"}},
			{ID: "f2", Name: "api.example.com", Namespace: "remote", Error: true, Throttle: true, StartTime: seconds(at(14)), EndTime: seconds(at(15))},
			{ID: "f3", Name: "api.example.com", Namespace: "remote", Error: true, StartTime: seconds(at(15)), EndTime: seconds(at(16))},
		}}})
	return View{Job: parent, Children: []ChildTrace{
		child(0, jobs.Succeeded, 12, 19.5, ok("c0", 3)),
		child(1, jobs.Succeeded, 12, 31.25, ok("c1", 4)),
		child(2, jobs.Failed, 12.5, 40.1, bad),
		child(3, jobs.Running, 13, 0),
		child(4, jobs.Runnable, 0, 0),
		child(5, jobs.Succeeded, 12, 19.5, ok("c5", 2)),
		child(6, jobs.Succeeded, 14, 20),
		child(7, jobs.Starting, 0, 0),
	}}
}

// checkWidths fails for any line wider than the width.
func checkWidths(t *testing.T, out string, w int) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if got := ansi.StringWidth(l); got > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, got, w, l)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	nightly := View{Job: nightlyJob(), Traces: loadTraces(t, "batchgettraces-job.json")}
	rj, rt := retryJob()
	retry := View{Job: rj, Traces: rt}
	child2, ok := arrayView().ChildView(2)
	if !ok {
		t.Fatal("ChildView(2) found no child")
	}
	child2.Job.CreatedAt = at(0)
	retryLogs := retry
	retryLogs.Logs = []AttemptLog{{Attempt: 1, Lines: []string{
		"importing 1,204 rows", "row 1187:\tbad date \"2026-13-01\"", "\x1b[31mERROR\x1b[0m import failed\r\n"}}}
	child2Denied := child2
	child2Denied.Logs = []AttemptLog{{Attempt: 1, Unreadable: "no permission to read it (logs:GetLogEvents)"}}
	tests := []struct {
		name string
		v    View
		o    Options
	}{
		{"job-80", nightly, Options{Width: 80}},
		{"job-80-color", nightly, Options{Width: 80, Color: true}},
		{"job-160", nightly, Options{Width: 160}},
		{"job-160-color", nightly, Options{Width: 160, Color: true}},
		{"job-50", nightly, Options{Width: 50}},
		{"job-errors-only", nightly, Options{Width: 100, ErrorsOnly: true}},
		{"job-depth-1", nightly, Options{Width: 100, Depth: 1}},
		{"job-min-duration", nightly, Options{Width: 100, MinDuration: 200 * time.Millisecond}},
		{"job-no-collapse", nightly, Options{Width: 100, Collapse: -1}},
		{"retry-100", retry, Options{Width: 100}},
		{"retry-100-color", retry, Options{Width: 100, Color: true}},
		{"array-80", arrayView(), Options{Width: 80}},
		{"array-80-color", arrayView(), Options{Width: 80, Color: true}},
		{"array-child-2", child2, Options{Width: 80}},
		{"short-run-80", shortRunView(), Options{Width: 80}},
		{"short-run-80-color", shortRunView(), Options{Width: 80, Color: true}},
		{"short-run-60", shortRunView(), Options{Width: 60}},
		{"short-run-160", shortRunView(), Options{Width: 160}},
		{"long-run-80", longRunView(), Options{Width: 80}},
		{"retry-logs-100", retryLogs, Options{Width: 100}},
		{"retry-logs-100-color", retryLogs, Options{Width: 100, Color: true}},
		{"retry-logs-50", retryLogs, Options{Width: 50}},
		{"array-child-2-log-denied", child2Denied, Options{Width: 80}},
		{"running-no-trace", View{Job: jobs.Job{ID: "r1", Name: "warming-up", Status: jobs.Runnable, CreatedAt: at(0)}}, Options{Width: 80}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Now = at(3600)
			if tt.name == "running-no-trace" {
				o.Now = at(95)
			}
			got := Render(tt.v, o)
			checkWidths(t, got, o.Width)
			if !o.Color && strings.Contains(got, "\x1b") {
				t.Error("output without colour holds an escape sequence")
			}
			if o.Color && !strings.Contains(got, "\x1b[") {
				t.Error("output with colour holds no escape sequence")
			}
			golden.AssertString(t, tt.name+".golden", got)
		})
	}
}
