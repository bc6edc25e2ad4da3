package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"golang.org/x/sync/errgroup"
)

// traces finds the traces of the jobs: by ID where a job carries one, else
// by searching X-Ray, then gets them MaxBatchGet a call.
func (g *Gatherer) traces(ctx context.Context, req Request, js []Job) ([]Trace, error) {
	if len(js) == 0 {
		return nil, nil
	}
	want := make(map[string]bool, len(js))
	owner := map[string]string{}
	var ids []string
	var untagged []Job
	for _, j := range js {
		want[j.ID] = true
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
		found, err := g.search(ctx, req.Queue, untagged)
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
	got, err := g.fetch(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := got[:0]
	for _, t := range got {
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
func (g *Gatherer) search(ctx context.Context, queue string, js []Job) ([]string, error) {
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
				got, err := g.summaries(ctx, fmt.Sprintf("annotation.job_id = %q", j.ID), j.CreatedAt.Add(-margin), jobEnd(j, now).Add(margin), nil)
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
	return g.summaries(ctx, fmt.Sprintf("annotation.job_queue = %q", queue), start.Add(-margin), end.Add(margin), wanted)
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

// summaries lists the IDs of the traces filter matches in [start, end],
// without duplicates. With jobs set, only traces whose job_id annotation
// names one of them are kept. The range is cut into windows of at most
// MaxWindow, and a long search into Concurrency windows searched at once,
// since the pages of one window can only be read one after the other.
func (g *Gatherer) summaries(ctx context.Context, filter string, start, end time.Time, jobs map[string]bool) ([]string, error) {
	if now := g.Clock.Now(); end.After(now) {
		end = now
	}
	if !end.After(start) {
		return nil, nil
	}
	width := min(MaxWindow, end.Sub(start))
	if jobs != nil {
		width = min(width, (end.Sub(start)+time.Duration(g.limit())-1)/time.Duration(g.limit()))
	}
	width = max(width, time.Second)
	var windows [][2]time.Time
	for s := start; s.Before(end); s = s.Add(width) {
		// Windows overlap by a second, so a trace on a boundary is in
		// one whichever way the ends are counted; duplicates are dropped.
		windows = append(windows, [2]time.Time{s, minTime(s.Add(width+time.Second), end)})
	}
	found := make([][]string, len(windows))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(g.limit())
	for i, w := range windows {
		eg.Go(func() error {
			var err error
			found[i], err = g.window(ctx, filter, w[0], w[1], jobs)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range slices.Concat(found...) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// window is one GetTraceSummaries search, every page.
func (g *Gatherer) window(ctx context.Context, filter string, start, end time.Time, jobs map[string]bool) ([]string, error) {
	in := &xray.GetTraceSummariesInput{
		StartTime: aws.Time(start), EndTime: aws.Time(end),
		FilterExpression: aws.String(filter), Sampling: aws.Bool(false),
	}
	var ids []string
	for {
		var out *xray.GetTraceSummariesOutput
		err := g.retry(ctx, func() (err error) {
			out, err = g.XRay.GetTraceSummaries(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("get trace summaries (%s): %w", filter, err)
		}
		for _, t := range out.TraceSummaries {
			if jobs != nil && !jobs[summaryJobID(t.Annotations)] {
				continue
			}
			ids = append(ids, aws.ToString(t.Id))
		}
		if aws.ToString(out.NextToken) == "" {
			return ids, nil
		}
		in.NextToken = out.NextToken
	}
}

// fetch gets traces MaxBatchGet IDs a call, Concurrency calls at a time.
func (g *Gatherer) fetch(ctx context.Context, ids []string) ([]Trace, error) {
	calls := (len(ids) + MaxBatchGet - 1) / MaxBatchGet
	if calls == 0 {
		return nil, nil
	}
	label := fmt.Sprintf("getting %s from X-Ray", plural(len(ids), "trace"))
	done := g.step(label)
	chunks := make([][]Trace, calls)
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(g.limit())
	for i := range calls {
		chunk := ids[i*MaxBatchGet : min((i+1)*MaxBatchGet, len(ids))]
		eg.Go(func() error {
			got, err := g.batchGet(ctx, chunk)
			chunks[i] = got
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	out := slices.Concat(chunks...)
	done(fmt.Sprintf("got %s in %s", plural(len(out), "trace"), plural(calls, "call")))
	return out, nil
}

func (g *Gatherer) batchGet(ctx context.Context, ids []string) ([]Trace, error) {
	in := &xray.BatchGetTracesInput{TraceIds: ids}
	docs := map[string][]string{}
	var order []string
	for {
		var out *xray.BatchGetTracesOutput
		err := g.retry(ctx, func() (err error) {
			out, err = g.XRay.BatchGetTraces(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("batch get traces %s: %w", strings.Join(ids, ", "), err)
		}
		for _, t := range out.Traces {
			id := aws.ToString(t.Id)
			if _, ok := docs[id]; !ok {
				order = append(order, id)
			}
			for _, s := range t.Segments {
				docs[id] = append(docs[id], aws.ToString(s.Document))
			}
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	out := make([]Trace, 0, len(order))
	for _, id := range order {
		t, err := parseTrace(id, docs[id])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// retry calls fn again, after a growing wait on the clock, while X-Ray
// throttles it.
func (g *Gatherer) retry(ctx context.Context, fn func() error) error {
	delay := minDelay
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !throttled(err) || attempt >= retries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-g.Clock.After(delay):
		}
		delay *= 2
	}
}
