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
// job when there are few, else one over the queue and the jobs' time span
// that keeps the traces of the jobs asked for.
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
	start, end := js[0].CreatedAt, jobEnd(js[0], now)
	for _, j := range js {
		wanted[j.ID] = true
		start = minTime(start, j.CreatedAt)
		end = maxTime(end, jobEnd(j, now))
	}
	return f.Search(ctx, traces.SearchRequest{
		Filter: fmt.Sprintf("annotation.job_queue = %q", queue),
		Start:  start.Add(-traces.DefaultMargin), End: end.Add(traces.DefaultMargin),
		Keep:    func(id string) bool { return wanted[id] },
		Windows: g.limit(),
	})
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
