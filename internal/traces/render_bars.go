package traces

import (
	"math"
	"strings"

	"github.com/batchxray/batchxray/internal/jobs"
)

// axis sets the time origin and scale so that the lifecycle and every span
// fit in the bar column. When the wait before anything ran dwarfs the run
// (a job queued for minutes that ran for seconds), that wait is squeezed
// into a few cells behind a break in the ruler, so the spans keep the room.
func (r *renderer) axis(v View, tracks []Track) {
	t0, t1 := math.Inf(1), math.Inf(-1)
	first := math.Inf(1)
	see := func(t float64) {
		t0, t1 = min(t0, t), max(t1, t)
	}
	for _, t := range tracks {
		see(seconds(t.Start()))
		see(seconds(t.End()))
		for _, ph := range t.Phases {
			if ph.State == jobs.Starting || ph.State == jobs.Running {
				first = min(first, seconds(ph.Start))
			}
		}
	}
	for _, tr := range v.Traces {
		tr.Walk(func(s *Span, _ int) {
			see(s.Start)
			first = min(first, s.Start)
			if s.InProgress {
				see(max(r.openEnd, s.Start))
			} else {
				see(s.End)
			}
		})
	}
	if math.IsInf(t0, 0) {
		t0, t1 = r.openEnd, r.openEnd
	}
	if t1-t0 < 0.001 {
		t1 = t0 + 0.001
	}
	r.t0, r.tb, r.k = t0, t0, 0
	if lead, rest := first-t0, t1-first; !math.IsInf(first, 0) && r.barW >= 30 && lead > 1.5*rest {
		r.k = max(r.barW/8, 3)
		r.tb = first - rest*0.05
	}
	r.scale = float64(r.barW-r.k) / (t1 - r.tb)
	r.t1 = t1
}

// x is the bar column position of a time, in cells.
func (r *renderer) x(t float64) float64 {
	var v float64
	if t < r.tb {
		v = (t - r.t0) / (r.tb - r.t0) * float64(r.k)
	} else {
		v = float64(r.k) + (t-r.tb)*r.scale
	}
	return min(max(v, 0), float64(r.barW))
}

// blank is the space left of the bar column.
func (r *renderer) blank() string { return strings.Repeat(" ", r.labelW+durW+2) }

// ruler writes the tick labels, offsets from the job's submission, and the
// ruler under them.
func (r *renderer) ruler() {
	ruler := []rune(strings.Repeat("─", r.barW))
	labels := []rune(strings.Repeat(" ", r.barW))
	next := 0
	tick := func(v, step float64) {
		pos := min(int(math.Round(r.x(r.t0+v))), r.barW-1)
		ruler[pos] = '┬'
		l := []rune(tickLabel(v, step, r.t1-r.t0))
		at := pos
		if at+len(l) > r.barW {
			at = r.barW - len(l)
		}
		if at < next {
			return
		}
		copy(labels[at:], l)
		next = at + len(l) + 1
	}
	step := tickStep(r.t1-r.tb, max((r.barW-r.k)/8, 4))
	from := 0.0
	if r.k > 0 {
		tick(0, step)
		for c := 1; c < r.k; c++ {
			ruler[c] = '┄'
		}
		from = math.Ceil((r.tb-r.t0)/step) * step
	}
	for v := from; v <= (r.t1-r.t0)*(1+1e-9); v += step {
		tick(v, step)
	}
	r.line(piece{r.blank(), r.plain}, piece{string(labels), r.muted})
	r.line(piece{r.blank(), r.plain}, piece{string(ruler), r.muted})
}

// row writes one row: a label of prefix, body and marks (only the body is
// cut when the label is too long), a duration and a bar.
func (r *renderer) row(prefix string, body, marks []piece, dur string, bar []piece) {
	ps := make([]piece, 0, 4+len(body)+len(marks)+len(bar))
	// A deep tree keeps the right end of its prefix, next to the name.
	if limit := r.labelW / 2; width(prefix) > limit {
		rs := []rune(prefix)
		prefix = "…" + string(rs[len(rs)-limit+1:])
	}
	room := r.labelW - width(prefix)
	mw := 0
	for _, m := range marks {
		mw += width(m.text)
	}
	if mw > 0 {
		mw++
	}
	ps = append(ps, piece{prefix, r.muted})
	left := room - mw
	for _, p := range body {
		if left <= 0 {
			break
		}
		w := width(p.text)
		if w > left {
			p.text = truncate(p.text, left)
			w = left
		}
		ps = append(ps, p)
		left -= w
	}
	if mw > 0 {
		ps = append(ps, piece{" ", r.plain})
		ps = append(ps, marks...)
	}
	ps = append(ps, piece{strings.Repeat(" ", max(left, 0)+1) + padLeft(dur, durW) + " ", r.plain})
	if r.barW > 0 {
		ps = append(ps, bar...)
	}
	r.line(ps...)
}

// spanBar draws [start, end] with eighths of a cell at its right edge and a
// half cell at its left.
func (r *renderer) spanBar(start, end float64, p paint) []piece {
	s8 := int(math.Round(r.x(start) * 8))
	e8 := int(math.Round(r.x(end) * 8))
	if e8 <= s8 {
		e8 = s8 + 1
	}
	if max8 := r.barW * 8; e8 > max8 {
		e8, s8 = max8, min(s8, max8-1)
	}
	c0, c1 := s8/8, (e8+7)/8
	var b strings.Builder
	for c := c0; c < c1; c++ {
		lo, hi := max(s8, c*8)-c*8, min(e8, c*8+8)-c*8
		n := hi - lo
		switch {
		case n == 8:
			b.WriteString(glyphFull)
		case lo > 0 && hi == 8 && n >= 4:
			b.WriteString("▐")
		case lo > 0 && hi == 8:
			b.WriteString("▕")
		default:
			b.WriteString(leftBlocks[n])
		}
	}
	return []piece{{strings.Repeat(" ", c0), r.plain}, {b.String(), p}}
}

// markBar draws a zero-length span as one mark.
func (r *renderer) markBar(t float64, p paint) []piece {
	c := min(int(r.x(t)), r.barW-1)
	return []piece{{strings.Repeat(" ", c), r.plain}, {glyphZero, p}}
}

// openBar draws an unfinished span as a dashed bar up to the clock.
func (r *renderer) openBar(start float64, p paint) []piece {
	c0 := min(int(r.x(start)), r.barW-1)
	c1 := max(int(math.Ceil(r.x(r.openEnd))), c0+1)
	return []piece{{strings.Repeat(" ", c0), r.plain}, {strings.Repeat(glyphOpen, c1-c0-1) + glyphOpenEnd, p}}
}
