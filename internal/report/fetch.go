package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/batchxray/batchxray/internal/traces"
)

// traces finds the traces of the jobs with traces.Finder: by ID where a
// job carries one (BatchGetTraces, or StartTraceRetrieval where the account
// uses Transaction Search), else by searching X-Ray.
func (g *Gatherer) traces(ctx context.Context, req Request, js []Job) ([]Trace, error) {
	if len(js) == 0 {
		return nil, nil
	}
	f := traces.NewFinder(g.XRay, g.Clock)
	f.Concurrency = g.limit()
	want := make(map[string]bool, len(js))
	owner := map[string]string{}
	var ids []string
	var untagged []Job
	now := g.Clock.Now()
	start, end := js[0].CreatedAt, jobEnd(js[0], now)
	for _, j := range js {
		want[j.ID] = true
		start, end = minTime(start, j.CreatedAt), maxTime(end, jobEnd(j, now))
		switch {
		case j.TraceID != "":
			if _, seen := owner[j.TraceID]; !seen {
				ids = append(ids, j.TraceID)
			}
			owner[j.TraceID] = j.ID
		case !j.Started().IsZero():
			untagged = append(untagged, j)
		}
	}
	if len(untagged) > 0 {
		done := g.step(fmt.Sprintf("searching X-Ray for the traces of %s", plural(len(untagged), "job")))
		found, err := g.search(ctx, f, req.Queue, untagged)
		if err != nil {
			return nil, err
		}
		for _, id := range found {
			if _, seen := owner[id]; !seen {
				owner[id] = ""
				ids = append(ids, id)
			}
		}
		done(fmt.Sprintf("found %s by search", plural(len(found), "trace")))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	done := g.step(fmt.Sprintf("getting %s from X-Ray", plural(len(ids), "trace")))
	got, err := f.Fetch(ctx, ids, start.Add(-traces.DefaultMargin), end.Add(traces.DefaultMargin), 0)
	if err != nil {
		return nil, err
	}
	done(fmt.Sprintf("got %s in %s", plural(len(got), "trace"), plural((len(ids)+traces.BatchSize-1)/traces.BatchSize, "call")))
	out := make([]Trace, 0, len(got))
	for _, tr := range got {
		t := fromTrace(tr)
		if t.JobID == "" {
			t.JobID = owner[t.ID]
		}
		if want[t.JobID] {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b Trace) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// search finds trace IDs of jobs by their job_id annotation: one search a
// job when there are few, else one over the queue, in searchWindows
// searched concurrently, that keeps the traces of the jobs asked for.
func (g *Gatherer) search(ctx context.Context, f *traces.Finder, queue string, js []Job) ([]string, error) {
	now := g.Clock.Now()
	each := perJobSearch
	if g.searchEach != 0 {
		each = g.searchEach
	}
	if len(js) <= each || queue == "" {
		var (
			mu  sync.Mutex
			ids []string
		)
		eg, ctx := errgroup.WithContext(ctx)
		eg.SetLimit(g.limit())
		for _, j := range js {
			eg.Go(func() error {
				got, err := f.Search(ctx, traces.SearchRequest{
					Filter: fmt.Sprintf("annotation.job_id = %q", j.ID),
					Start:  j.CreatedAt.Add(-traces.DefaultMargin), End: jobEnd(j, now).Add(traces.DefaultMargin),
				})
				mu.Lock()
				ids = append(ids, got...)
				mu.Unlock()
				return err
			})
		}
		return ids, eg.Wait()
	}
	wanted := make(map[string]bool, len(js))
	for _, j := range js {
		wanted[j.ID] = true
	}
	windows := searchWindows(js, now, g.limit())
	found := make([][]string, len(windows))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(g.limit())
	for i, w := range windows {
		eg.Go(func() error {
			var err error
			found[i], err = f.Search(ctx, traces.SearchRequest{
				Filter: fmt.Sprintf("annotation.job_queue = %q", queue),
				Start:  w.Start, End: w.End,
				Keep: func(id string) bool { return wanted[id] },
			})
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	// The windows do not overlap: a trace is in one of them.
	return slices.Concat(found...), nil
}

// summariesPage is about how many summaries a GetTraceSummaries page
// holds: AWS does not document it, the stand-in's is 100.
const summariesPage = 100

// searchWindows cuts the span of the jobs (with traces.DefaultMargin
// before their first creation and after their last end) into at most n
// windows, one for about every summariesPage jobs, cut where each holds
// about as many of the jobs' starts: an untagged job's trace begins when it
// starts, and X-Ray reads the pages of one window only one after another,
// so the longest window is the search's wall time.
//
// Each window costs its own last, partial page: k windows take up to k-1
// calls more than the pages of one (10,000 jobs in 8 windows: 104 calls,
// 13 pages in a row, where one window takes 100 in a row). Windows are cut
// at whole seconds, the resolution of the trace ID's time X-Ray searches
// by, and do not overlap, so no second is read twice. Cutting the range
// evenly instead puts a short workload's traces in the last window, after
// windows of margin that hold none.
func searchWindows(js []Job, now time.Time, n int) []traces.Window {
	starts := make([]time.Time, 0, len(js))
	first, last := js[0].CreatedAt, jobEnd(js[0], now)
	for _, j := range js {
		starts = append(starts, maxTime(j.Started(), j.CreatedAt))
		first, last = minTime(first, j.CreatedAt), maxTime(last, jobEnd(j, now))
	}
	slices.SortFunc(starts, time.Time.Compare)
	n = max(min(n, (len(js)+summariesPage-1)/summariesPage), 1)
	start := first.Add(-traces.DefaultMargin).Truncate(time.Second)
	// No cut at or before the first start's second: the window before it
	// would hold the margin alone.
	low := starts[0].Truncate(time.Second)
	var ws []traces.Window
	for i := 1; i < n; i++ {
		cut := starts[i*len(starts)/n].Truncate(time.Second)
		if !cut.After(low) {
			continue
		}
		ws = append(ws, traces.Window{Start: start, End: cut.Add(-time.Millisecond)})
		start, low = cut, cut
	}
	return append(ws, traces.Window{Start: start, End: last.Add(traces.DefaultMargin)})
}

func jobEnd(j Job, now time.Time) time.Time {
	if !j.StoppedAt.IsZero() {
		return j.StoppedAt
	}
	return now
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
