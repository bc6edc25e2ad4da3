package traces

import (
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/ui"
	"sort"
	"strconv"
	"time"
)

// childRunTime is how long a child ran: from its start to its stop, or to
// now while it runs; zero if it never started.
func childRunTime(j jobs.Job, now time.Time) time.Duration {
	s := j.Started()
	if s.IsZero() {
		return 0
	}
	return j.End(now).Sub(s)
}

// SortChildren orders children slowest first, then by index, the order the
// table draws them in.
func SortChildren(children []ChildTrace, now time.Time) []ChildTrace {
	out := append([]ChildTrace(nil), children...)
	sort.SliceStable(out, func(a, b int) bool {
		da, db := childRunTime(out[a].Job, now), childRunTime(out[b].Job, now)
		if da != db {
			return da > db
		}
		return out[a].Index() < out[b].Index()
	})
	return out
}

// table draws an array parent's children: a line of counts by state, then
// one row per child, slowest first.
func (r *renderer) table(v View) {
	children := SortChildren(v.Children, r.o.Now)
	states := map[jobs.State]int{}
	for _, c := range children {
		states[c.Job.Status]++
	}
	what := strconv.Itoa(len(children)) + " children"
	if len(children) == 1 {
		what = "1 child"
	}
	var chunks [][]piece
	for _, st := range []jobs.State{jobs.Succeeded, jobs.Failed, jobs.Running, jobs.Starting, jobs.Runnable, jobs.Pending, jobs.Submitted} {
		if n := states[st]; n > 0 {
			p := r.statusPiece(st)
			p.text = strconv.Itoa(n) + " " + p.text
			chunks = append(chunks, []piece{p})
		}
	}
	r.b.WriteByte('\n')
	r.flow(piece{what + " · ", r.plain}, chunks, piece{" · ", r.muted})
	r.b.WriteByte('\n')
	const indexW, stateW = 6, 12
	r.line(piece{padLeft("INDEX", indexW) + "  " + pad("STATE", stateW) + "  " + padLeft("DURATION", 8) + "  TRACE", r.muted})
	for _, c := range children {
		idx := "-"
		if i := c.Index(); i >= 0 {
			idx = strconv.Itoa(i)
		}
		st := r.statusPiece(c.Job.Status)
		st.text = pad(st.text, stateW)
		dur := "-"
		if d := childRunTime(c.Job, r.o.Now); d > 0 || !c.Job.Started().IsZero() {
			dur = formatDuration(d.Seconds())
		}
		ps := []piece{{padLeft(idx, indexW) + "  ", r.plain}, st, {"  " + padLeft(dur, 8) + "  ", r.plain}}
		sum := Summarize(c.Traces)
		switch {
		case len(c.Traces) == 0:
			ps = append(ps, piece{"no trace", r.muted})
		case sum.Failed()+sum.InProgress == 0:
			ps = append(ps, piece{ui.GlyphOK + " " + plural(sum.Spans, "span"), r.ok})
		default:
			ps = append(ps, r.join(r.counts(sum.Faults, sum.Errors, sum.Throttles, sum.InProgress), "  ")...)
		}
		r.line(ps...)
	}
}
