package report

import (
	"fmt"
	"time"
)

// t0 is when the fixed workload was submitted.
var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func code(c int) *int { return &c }

func epoch(sec float64) float64 { return float64(t0.Unix()) + sec }

// workload is a fixed workload: plain jobs that succeed, one that fails
// twice and then succeeds, two that fail for different reasons, one still
// waiting, and a four-child array with one failed child; each job that ran
// has a trace with S3 and HTTP subsegments, one of them throttled.
func workload() Input {
	in := Input{Arrays: 1, From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}
	add := func(j Job) {
		in.Jobs = append(in.Jobs, j)
		var spans []Span
		for i, a := range j.Attempts {
			if a.Start.IsZero() || a.Stop.IsZero() {
				continue
			}
			s, e := epoch(a.Start.Sub(t0).Seconds()), epoch(a.Stop.Sub(t0).Seconds())
			d := e - s
			spans = append(spans,
				Span{Name: "BatchJob", Start: s, End: e, Segment: true, Fault: a.ExitCode != nil && *a.ExitCode != 0},
				Span{Name: "S3", Start: s + 0.1*d, End: s + 0.5*d, Depth: 1, Throttle: j.Name == "etl-2" && i == 0},
				Span{Name: "S3", Start: s + 0.1*d, End: s + 0.2*d, Depth: 2, Segment: true},
				Span{Name: "example.com", Start: s + 0.5*d, End: s + 0.6*d, Depth: 1, Error: a.ExitCode != nil && *a.ExitCode == 2},
			)
		}
		if len(spans) > 0 {
			in.Traces = append(in.Traces, Trace{ID: fmt.Sprintf("1-6927b1c0-%024d", len(in.Traces)), JobID: j.ID, Spans: spans})
		}
	}
	ok := func(name string, created, start, stop float64) Job {
		return Job{ID: "job-" + name, Name: name, Status: "SUCCEEDED", Reason: "Essential container in task exited",
			CreatedAt: at(created), StoppedAt: at(stop),
			Attempts: []Attempt{{Start: at(start), Stop: at(stop), ExitCode: code(0)}}}
	}
	add(ok("etl-1", 0, 5, 65))
	add(ok("etl-3", 0, 6, 30))
	add(ok("etl-4", 1, 40, 52))
	retried := ok("etl-2", 0, 4, 200)
	retried.Attempts = []Attempt{
		{Start: at(4), Stop: at(20), ExitCode: code(1), Reason: "Essential container in task exited"},
		{Start: at(25), Stop: at(90), ExitCode: code(1), Reason: "Essential container in task exited"},
		{Start: at(100), Stop: at(200), ExitCode: code(0)},
	}
	add(retried)
	add(Job{ID: "job-load-1", Name: "load-1", Status: "FAILED", Reason: "Essential container in task exited",
		CreatedAt: at(2), StoppedAt: at(50), Attempts: []Attempt{{Start: at(10), Stop: at(50), ExitCode: code(2)}}})
	add(Job{ID: "job-load-2", Name: "load-2", Status: "FAILED", Reason: "Job attempt duration exceeded timeout",
		CreatedAt: at(2), StoppedAt: at(130), Attempts: []Attempt{{Start: at(12), Stop: at(130)}}})
	add(Job{ID: "job-wait", Name: "report-final", Status: "RUNNABLE", CreatedAt: at(100), Attempts: []Attempt{}})
	for i := range 4 {
		c := ok(fmt.Sprintf("array:%d", i), 3, 8+float64(i), 30+float64(5*i))
		c.ID, c.Name, c.ArrayJobID, c.ArrayIndex = "arr-1:"+fmt.Sprint(i), "fanout", "arr-1", code(i)
		if i == 3 {
			c.Status = "FAILED"
			c.Attempts[0].ExitCode = code(1)
		}
		add(c)
	}
	return in
}

// now is when the workload is looked at: job-wait is still RUNNABLE.
var now = at(300)
