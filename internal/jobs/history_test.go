package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/ui"
)

// fakeHistory records the jobs it was asked to fill and fills them from
// its script.
type fakeHistory struct {
	asked []string
	fill  map[string][]Transition
}

func (h *fakeHistory) Fill(_ context.Context, js []*Job) error {
	for _, j := range js {
		h.asked = append(h.asked, j.ID)
		if ts, ok := h.fill[j.ID]; ok {
			j.Transitions, j.FromEvents = ts, true
		}
	}
	return nil
}

// Follow fills the jobs' transitions from its History at the end, and the
// report says which figures came from the events and which did not.
func TestFollowFillsFromHistory(t *testing.T) {
	f := &fakeBatch{t: t, rounds: [][]types.JobDetail{{
		detail("a", types.JobStatusSucceeded, started(5000), stopped(6000, 0, "Essential container in task exited")),
		detail("b", types.JobStatusSucceeded, started(5000), stopped(6000, 0, "Essential container in task exited")),
	}}}
	created := time.UnixMilli(1000).UTC()
	h := &fakeHistory{fill: map[string][]Transition{"a": {
		{State: Runnable, At: created.Add(time.Second)},
		{State: Starting, At: created.Add(3 * time.Second), Reason: "placed"},
		{State: Running, At: created.Add(4 * time.Second)},
		{State: Succeeded, At: created.Add(5 * time.Second)},
	}}}
	js, err := Follow(context.Background(), followFake{fakeBatch: f}, []string{"a", "b"}, FollowOptions{Once: true, History: h})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(h.asked, ",") != "a,b" {
		t.Errorf("History asked for %v, want a and b", h.asked)
	}
	now := created.Add(time.Hour)
	if d := js[0].Durations(now); d[Runnable] != 2*time.Second || d[Starting] != time.Second {
		t.Errorf("a's durations %v, want RUNNABLE 2s and STARTING 1s from the events", d)
	}
	if r := NewReport(js[0], now); r.StatesFrom != FromEvents {
		t.Errorf("a's report: statesFrom %q, want %q", r.StatesFrom, FromEvents)
	}
	if r := NewReport(js[1], now); r.StatesFrom != FromDescribeJobs {
		t.Errorf("b's report: statesFrom %q, want %q", r.StatesFrom, FromDescribeJobs)
	}
	st := ui.NewStyles(nil, false)
	if s := Summary(js[0], now, st); !strings.Contains(s, "states      from Batch's job events") ||
		!strings.Contains(s, "reasons     1970-01-01T00:00:04Z STARTING: placed") {
		t.Errorf("a's summary does not name the events and the reason it had:\n%s", s)
	}
	if s := Summary(js[1], now, st); !strings.Contains(s, "states      from DescribeJobs") {
		t.Errorf("b's summary does not name DescribeJobs:\n%s", s)
	}
}
