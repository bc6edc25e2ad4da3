package report

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/traces"
)

// TestSearchWindows: the queue search's windows cover the jobs' span and
// its margins with no gap and no second read twice, one window for about
// every summariesPage jobs up to the limit, each holding about as many of
// the jobs' starts (however the starts bunch up), and a burst within one
// second is one window.
func TestSearchWindows(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	jobsAt := func(starts []time.Duration) []Job {
		js := make([]Job, len(starts))
		for i, d := range starts {
			created := t0.Add(d - time.Second)
			js[i] = Job{ID: fmt.Sprint(i), Status: "SUCCEEDED", CreatedAt: created, StoppedAt: t0.Add(d + 2*time.Second),
				Attempts: []Attempt{{Start: t0.Add(d), Stop: t0.Add(d + 2*time.Second)}}}
		}
		return js
	}
	r := rand.New(rand.NewPCG(1, 2))
	spread := func(n int, over time.Duration) []time.Duration {
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(r.Int64N(int64(over)))
		}
		return ds
	}
	// Most jobs in the first minute, a tail over the hour after.
	var skewed []time.Duration
	skewed = append(skewed, spread(900, time.Minute)...)
	skewed = append(skewed, spread(100, time.Hour)...)
	tests := []struct {
		name    string
		starts  []time.Duration
		limit   int
		windows int
	}{
		{"few jobs: one window", spread(50, time.Hour), 8, 1},
		{"one window a page", spread(300, time.Hour), 8, 3},
		{"at most the limit", spread(1000, 10*time.Minute), 8, 8},
		{"bunched up", skewed, 8, 8},
		{"a burst within one second", spread(1000, 500*time.Millisecond), 8, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := jobsAt(tt.starts)
			ws := searchWindows(js, t0.Add(2*time.Hour), tt.limit)
			if len(ws) != tt.windows {
				t.Fatalf("%d windows, want %d: %v", len(ws), tt.windows, ws)
			}
			first, last := js[0].CreatedAt, js[0].StoppedAt
			for _, j := range js {
				first, last = minTime(first, j.CreatedAt), maxTime(last, j.StoppedAt)
			}
			if start := ws[0].Start; start.After(first.Add(-traces.DefaultMargin)) {
				t.Errorf("the first window starts at %s, after the margin before the first job (%s)", start, first.Add(-traces.DefaultMargin))
			}
			if end := ws[len(ws)-1].End; end.Before(last.Add(traces.DefaultMargin)) {
				t.Errorf("the last window ends at %s, before the margin after the last job (%s)", end, last.Add(traces.DefaultMargin))
			}
			// A trace ID's time is whole seconds: each second is in
			// exactly one window.
			perWindow := make([]int, len(ws))
			for i, w := range ws {
				if w.Start.Truncate(time.Second) != w.Start || !w.End.After(w.Start) {
					t.Errorf("window %d %v: want it to start on a whole second and end after", i, w)
				}
				if i > 0 && ws[i-1].End.Truncate(time.Second).Add(time.Second) != w.Start {
					t.Errorf("windows %d and %d: %v then %v, want the next second", i-1, i, ws[i-1], w)
				}
				for _, j := range js {
					if s := j.Started().Truncate(time.Second); !s.Before(w.Start) && !s.After(w.End) {
						perWindow[i]++
					}
				}
			}
			want := len(js) / len(ws)
			for i, n := range perWindow {
				if len(ws) > 1 && (n < want*3/4 || n > want*5/4) {
					t.Errorf("window %d holds %d starts, want about %d: %v", i, n, want, perWindow)
				}
			}
		})
	}
}
