package traces

import (
	"math"
	"strings"

	"github.com/batchxray/batchxray/internal/jobs"
)

// timeAxis maps times to cells of the bar column: t0 to t1, with [t0, tb)
// squeezed into the first k cells when the wait is long, then scale cells a
// second.
type timeAxis struct {
	t0, tb, t1, scale float64
	k                 int
	// label says what a span axis measures ("spans: 0–5.1ms of attempt
	// 1"); the lifecycle's axis has none.
	label string
}

// readableShare is the least share of the bar column the longest segment's
// spans may get on the lifecycle's axis. Below it (a job that queued and
// started for a second and traced for milliseconds draws its spans in a
// cell or two), each segment's spans get an axis of their own: one scale
// for all of them, so the longest fills the column and durations compare
// across attempts, each from its own segment's start.
const readableShare = 1.0 / 3

// axis sets the lifecycle's time origin and scale so that the lifecycle
// and every span fit in the bar column. When the wait before anything ran
// dwarfs the run (a job queued for minutes that ran for seconds), that
// wait is squeezed into a few cells behind a break in the ruler, so the
// spans keep the room.
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
			see(r.spanEnd(s))
		})
	}
	if math.IsInf(t0, 0) {
		t0, t1 = r.openEnd, r.openEnd
	}
	if t1-t0 < 0.001 {
		t1 = t0 + 0.001
	}
	a := timeAxis{t0: t0, tb: t0, t1: t1}
	if lead, rest := first-t0, t1-first; !math.IsInf(first, 0) && r.barW >= 30 && lead > 1.5*rest {
		a.k = max(r.barW/8, 3)
		a.tb = first - rest*0.05
	}
	a.scale = float64(r.barW-a.k) / (t1 - a.tb)
	r.life = a
	r.ax = &r.life
}

// spanEnd is where a span's bar ends: its end, or for one in progress the
// drawing's open end.
func (r *renderer) spanEnd(s *Span) float64 {
	if s.InProgress {
		return max(r.openEnd, s.Start)
	}
	return s.End
}

// segmentSpans is a segment and the subsegments under it down to the next
// segment: the spans one process recorded, which share a span axis.
type segmentSpans struct {
	head       *Span
	start, end float64
}

// spanAxes returns, for every span drawn, the axis of its segment's spans,
// when on the lifecycle's axis the longest segment would get less than
// readableShare of the bar column; nil when the spans keep the lifecycle's
// axis (then nothing is allocated a span, so a big trace costs no more).
func (r *renderer) spanAxes(roots []*Span) map[*Span]*timeAxis {
	if r.barW == 0 {
		return nil
	}
	// Both walks meet the segments in the same order: the first measures
	// them, the second hands their spans their axes.
	walk := func(visit func(s *Span, head bool)) {
		var rec func(s *Span, depth int)
		rec = func(s *Span, depth int) {
			if s.Inferred && depth > 0 {
				return // drawn as its calling subsegment
			}
			visit(s, depth == 0 || s.Segment)
			for _, c := range s.Children {
				rec(c, depth+1)
			}
		}
		for _, s := range roots {
			rec(s, 0)
		}
	}
	var segs []segmentSpans
	walk(func(s *Span, head bool) {
		if head {
			segs = append(segs, segmentSpans{head: s, start: s.Start, end: r.spanEnd(s)})
		}
		seg := &segs[len(segs)-1]
		seg.start, seg.end = min(seg.start, s.Start), max(seg.end, r.spanEnd(s))
	})
	longest, cells := 0.0, 0.0
	for _, seg := range segs {
		longest = max(longest, seg.end-seg.start)
		cells = max(cells, r.life.x(seg.end, r.barW)-r.life.x(seg.start, r.barW))
	}
	if len(segs) == 0 || cells >= readableShare*float64(r.barW) {
		return nil
	}
	longest = max(longest, 0.001)
	out := map[*Span]*timeAxis{}
	var a *timeAxis
	i := -1
	walk(func(s *Span, head bool) {
		if head {
			i++
			seg := segs[i]
			a = &timeAxis{
				t0: seg.start, tb: seg.start, t1: seg.start + longest,
				scale: float64(r.barW) / longest,
				label: "spans: 0–" + formatDuration(seg.end-seg.start) + " of " + segmentName(seg.head),
			}
		}
		out[s] = a
	})
	return out
}

// segmentName names a segment on its axis: a job's by its attempt, any
// other by its name.
func segmentName(s *Span) string {
	if a, ok := s.Annotations["attempt"]; ok {
		if n := annotationString(a); n != "" {
			return "attempt " + n
		}
	}
	return s.Name
}

// useAxis makes a the axis the next bars are drawn on, and when it is a
// span axis other than the one in use, writes its ruler first, carrying
// through it the tree's line down to a row at indent.
func (r *renderer) useAxis(a *timeAxis, indent string, root bool) {
	if a == nil || a == r.ax {
		return
	}
	r.ax = a
	lead := ""
	if !root {
		lead = indent + "│  "
	}
	r.ruler(lead)
}

// x is the bar column position of a time on the axis in use, in cells.
func (r *renderer) x(t float64) float64 { return r.ax.x(t, r.barW) }

// x is the position of a time on the axis, in cells of a bar column barW
// wide.
func (a *timeAxis) x(t float64, barW int) float64 {
	var v float64
	if t < a.tb {
		v = (t - a.t0) / (a.tb - a.t0) * float64(a.k)
	} else {
		v = float64(a.k) + (t-a.tb)*a.scale
	}
	return min(max(v, 0), float64(barW))
}

// ruler writes the axis in use: its tick labels, offsets from its origin
// (the job's submission, or a span axis's segment start), and the ruler
// under them. A span axis's label goes left of its ticks, after lead.
func (r *renderer) ruler(lead string) {
	a := r.ax
	ruler := []rune(strings.Repeat("─", r.barW))
	labels := []rune(strings.Repeat(" ", r.barW))
	next := 0
	tick := func(v, step float64) {
		pos := min(int(math.Round(r.x(a.t0+v))), r.barW-1)
		ruler[pos] = '┬'
		l := []rune(tickLabel(v, step, a.t1-a.t0))
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
	step := tickStep(a.t1-a.tb, max((r.barW-a.k)/8, 4))
	from := 0.0
	if a.k > 0 {
		tick(0, step)
		for c := 1; c < a.k; c++ {
			ruler[c] = '┄'
		}
		from = math.Ceil((a.tb-a.t0)/step) * step
	}
	for v := from; v <= (a.t1-a.t0)*(1+1e-9); v += step {
		tick(v, step)
	}
	title, under := piece{r.blank(), r.plain}, piece{r.blank(), r.plain}
	if a.label != "" {
		left := r.labelW + durW + 2
		title = piece{pad(truncate(lead+a.label, left-1), left), r.muted}
		under = piece{pad(lead, left), r.muted}
	}
	r.line(title, piece{string(labels), r.muted})
	r.line(under, piece{string(ruler), r.muted})
}
