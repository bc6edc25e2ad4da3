package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Input is what the figures are worked out from: the jobs of the report
// (array children, not their parents) and the traces found for them.
type Input struct {
	Jobs   []Job   `json:"jobs"`
	Traces []Trace `json:"traces"`
	// Arrays is how many array parents the jobs came from.
	Arrays int `json:"arrays"`
	// From and To bound the window the jobs were listed in; zero when
	// they were named.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Source says where the jobs' figures came from.
	Source Source `json:"source"`
}

// Figures is the report: what `--output json` prints and what the terminal
// and HTML views draw. Durations are seconds.
type Figures struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Jobs counts the jobs reported on; Arrays the array parents they
	// include the children of.
	Jobs   int `json:"jobs"`
	Arrays int `json:"arrays"`
	// Traced is how many of the jobs had a trace, Traces how many traces.
	Traced   int       `json:"traced"`
	Traces   int       `json:"traces"`
	Outcomes []Outcome `json:"outcomes"`
	// Source says where the job figures came from: the recorded job
	// events, DescribeJobs, or both.
	Source Source `json:"source"`
	// QueueWait is RUNNABLE to STARTING where the job's events are
	// recorded, else creation to the first attempt's start, of every job
	// that started or is still waiting; RunTime the attempts' running time
	// summed per job, of every job that started.
	QueueWait   Distribution `json:"queueWait"`
	RunTime     Distribution `json:"runTime"`
	Attempts    Attempts     `json:"attempts"`
	Failures    []Failure    `json:"failures"`
	Subsegments []Subsegment `json:"subsegments"`
	Slowest     []SlowJob    `json:"slowest"`
}

// Outcome is how many jobs are in one status.
type Outcome struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// Attempts sums up retries: how many jobs took each number of attempts,
// how many were retried and how many of those then succeeded.
type Attempts struct {
	ByCount          []AttemptCount `json:"byCount"`
	Retried          int            `json:"retried"`
	RetriedSucceeded int            `json:"retriedSucceeded"`
	// FailedAttempts counts attempts that did not end with exit code 0,
	// the failed jobs' last attempts included.
	FailedAttempts int `json:"failedAttempts"`
}

// AttemptCount is how many jobs took Attempts attempts.
type AttemptCount struct {
	Attempts int `json:"attempts"`
	Jobs     int `json:"jobs"`
}

// Failure is one reason jobs FAILED, with how many and one of them.
type Failure struct {
	Reason      string `json:"reason"`
	Count       int    `json:"count"`
	ExampleID   string `json:"exampleJobId"`
	ExampleName string `json:"exampleJobName"`
}

// Subsegment is every call of one subsegment name across all traces. Share
// is its total time over the traces' total (the time their segments cover:
// submit's root and each attempt's job segment, once where they overlap);
// nested subsegments count in their parents' time too, so shares can sum
// past 1.
type Subsegment struct {
	Name string `json:"name"`
	Distribution
	Share     float64 `json:"share"`
	Errors    int     `json:"errors"`
	Faults    int     `json:"faults"`
	Throttles int     `json:"throttles"`
}

// SlowJob is one of the jobs that ran longest, with the command that draws
// its trace.
type SlowJob struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Status       string  `json:"status"`
	Attempts     int     `json:"attempts"`
	QueueSeconds float64 `json:"queueSeconds"`
	RunSeconds   float64 `json:"runSeconds"`
	Command      string  `json:"command"`
}

// statusOrder is the order outcomes are listed in: ended first.
var statusOrder = []string{"SUCCEEDED", "FAILED", "RUNNING", "STARTING", "RUNNABLE", "PENDING", "SUBMITTED"}

// DefaultSlowest is how many slowest jobs the report lists.
const DefaultSlowest = 10

// Compute works out the figures. It is a pure function of its input and
// now (the end of a job or attempt still under way), so the same input
// always gives the same report.
func Compute(in Input, now time.Time, slowest int) Figures {
	f := Figures{From: in.From, To: in.To, Jobs: len(in.Jobs), Arrays: in.Arrays, Traces: len(in.Traces), Source: in.Source}
	f.Outcomes = outcomes(in.Jobs)
	var waits, runs []float64
	for _, j := range in.Jobs {
		if d, ok := j.QueueWait(now); ok {
			waits = append(waits, d.Seconds())
		}
		if d, ok := j.RunTime(now); ok {
			runs = append(runs, d.Seconds())
		}
	}
	f.QueueWait, f.RunTime = distribution(waits, histogramBins), distribution(runs, histogramBins)
	f.Attempts = attempts(in.Jobs)
	f.Failures = failures(in.Jobs)
	f.Subsegments = subsegments(in.Traces)
	f.Slowest = slowestJobs(in.Jobs, now, slowest)
	traced := map[string]bool{}
	for _, t := range in.Traces {
		traced[t.JobID] = true
	}
	for _, j := range in.Jobs {
		if traced[j.ID] {
			f.Traced++
		}
	}
	return f
}

func outcomes(js []Job) []Outcome {
	counts := map[string]int{}
	for _, j := range js {
		counts[j.Status]++
	}
	var out []Outcome
	for _, s := range statusOrder {
		if counts[s] > 0 {
			out = append(out, Outcome{s, counts[s]})
			delete(counts, s)
		}
	}
	// A status this version does not know still shows.
	for _, s := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, Outcome{s, counts[s]})
	}
	return out
}

func attempts(js []Job) Attempts {
	var a Attempts
	byCount := map[int]int{}
	for _, j := range js {
		n := len(j.Attempts)
		byCount[n]++
		if n > 1 {
			a.Retried++
			if j.Status == "SUCCEEDED" {
				a.RetriedSucceeded++
			}
		}
		for _, at := range j.Attempts {
			if !at.Stop.IsZero() && (at.ExitCode == nil || *at.ExitCode != 0) {
				a.FailedAttempts++
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(byCount)) {
		a.ByCount = append(a.ByCount, AttemptCount{n, byCount[n]})
	}
	return a
}

// failureReason is what FAILED jobs are grouped by: Batch's reason and the
// last attempt's exit code.
func failureReason(j Job) string {
	reason := j.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if n := len(j.Attempts); n > 0 && j.Attempts[n-1].ExitCode != nil {
		reason = fmt.Sprintf("%s (exit code %d)", reason, *j.Attempts[n-1].ExitCode)
	}
	return reason
}

func failures(js []Job) []Failure {
	byReason := map[string]*Failure{}
	var out []*Failure
	for _, j := range js {
		if j.Status != "FAILED" {
			continue
		}
		r := failureReason(j)
		f := byReason[r]
		if f == nil {
			f = &Failure{Reason: r, ExampleID: j.ID, ExampleName: j.Name}
			byReason[r] = f
			out = append(out, f)
		}
		f.Count++
	}
	slices.SortStableFunc(out, func(a, b *Failure) int {
		return cmp.Or(b.Count-a.Count, cmp.Compare(a.Reason, b.Reason))
	})
	res := make([]Failure, 0, len(out))
	for _, f := range out {
		res = append(res, *f)
	}
	return res
}

func subsegments(ts []Trace) []Subsegment {
	type acc struct {
		Subsegment
		values []float64
	}
	byName := map[string]*acc{}
	var total float64
	for _, t := range ts {
		total += segmentsTime(t.Spans)
		for _, s := range t.Spans {
			if s.Segment {
				// A segment (submit's root, the job's, a downstream
				// service's) is not a call of this trace's own.
				continue
			}
			a := byName[s.Name]
			if a == nil {
				a = &acc{Subsegment: Subsegment{Name: s.Name}}
				byName[s.Name] = a
			}
			a.values = append(a.values, s.Duration())
			a.Errors += b2i(s.Error)
			a.Faults += b2i(s.Fault)
			a.Throttles += b2i(s.Throttle)
		}
	}
	out := make([]Subsegment, 0, len(byName))
	for _, a := range byName {
		a.Distribution = distribution(a.values, 0)
		if total > 0 {
			a.Share = a.TotalSeconds / total
		}
		out = append(out, a.Subsegment)
	}
	slices.SortFunc(out, func(a, b Subsegment) int {
		return cmp.Or(cmp.Compare(b.TotalSeconds, a.TotalSeconds), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// segmentsTime is the time a trace's segments cover, each second once: a
// job submitted by batchxray has submit's short root segment and, below
// it, a segment an attempt, so the root alone is not the trace's time.
func segmentsTime(spans []Span) float64 {
	type stretch struct{ start, end float64 }
	var ss []stretch
	for _, s := range spans {
		if s.Segment && s.Duration() > 0 {
			ss = append(ss, stretch{s.Start, s.End})
		}
	}
	slices.SortFunc(ss, func(a, b stretch) int { return cmp.Compare(a.start, b.start) })
	var total, end float64
	for _, s := range ss {
		if s.start > end {
			end = s.start
		}
		if s.end > end {
			total += s.end - end
			end = s.end
		}
	}
	return total
}

func slowestJobs(js []Job, now time.Time, n int) []SlowJob {
	var out []SlowJob
	for _, j := range js {
		run, ok := j.RunTime(now)
		if !ok {
			continue
		}
		wait, _ := j.QueueWait(now)
		out = append(out, SlowJob{
			ID: j.ID, Name: j.Name, Status: j.Status, Attempts: len(j.Attempts),
			QueueSeconds: wait.Seconds(), RunSeconds: run.Seconds(),
			Command: "batchxray trace " + j.ID,
		})
	}
	slices.SortFunc(out, func(a, b SlowJob) int {
		return cmp.Or(cmp.Compare(b.RunSeconds, a.RunSeconds), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(n, len(out))]
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
