package traces

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/batchxray/batchxray/internal/ui"
)

// waterfall writes the spans of every trace as a tree, each a row with its
// bar, walked by a walker that keeps, hides and collapses rows as the
// Options ask.
func (r *renderer) waterfall(v View) {
	tracks := Lifecycle(v.Job, r.o.Now)
	// A span left in progress by a job that has stopped will never end:
	// its bar stops with the job rather than stretching the axis to now.
	r.openEnd = r.now
	if !v.Job.CreatedAt.IsZero() {
		r.openEnd = seconds(v.Job.End(r.o.Now))
	}
	r.axis(v, tracks)
	r.logs = v.Logs
	r.b.WriteByte('\n')
	if r.barW > 0 {
		r.ruler("")
	}
	r.lifecycle(tracks)
	var roots []*Span
	for _, t := range v.Traces {
		roots = append(roots, t.Roots...)
	}
	sortSpans(roots)
	w := &walker{r: r, axes: r.spanAxes(roots)}
	if r.o.ErrorsOnly {
		w.failing = map[*Span]bool{}
		for _, s := range roots {
			w.markFailing(s)
		}
	}
	w.level(roots, 0, "", true)
	if r.hidden > 0 {
		r.line(piece{plural(r.hidden, "more span") + " not drawn (depth, minimum duration or errors only)", r.muted})
	}
	if len(v.Traces) > 0 {
		r.b.WriteByte('\n')
		r.services(Summarize(v.Traces))
		r.notes(v)
	}
}

// notes says what an unfinished trace means: the job still runs, or an
// attempt was killed before its segment completed.
func (r *renderer) notes(v View) {
	if running(v.Job) {
		r.line(piece{ui.GlyphRunning + " " + string(v.Job.Status) + ": the trace so far; the job sends the rest as it goes", r.running})
	}
	for _, k := range Killed(v) {
		r.line(piece{ui.GlyphFailed + " attempt " + strconv.Itoa(k.Attempt) + " was killed before its segment completed", r.failed})
		if k.Reason != "" {
			r.line(piece{"  " + glyphMessage + " " + k.Reason, r.failed})
		}
	}
}

// walker lays out the span tree, applying the filters and collapsing
// repeated siblings.
type walker struct {
	r       *renderer
	failing map[*Span]bool
	// axes are the spans' own axes, when they do not share the
	// lifecycle's.
	axes map[*Span]*timeAxis
}

func (w *walker) markFailing(s *Span) bool {
	f := s.Failed()
	for _, c := range s.Children {
		if w.markFailing(c) {
			f = true
		}
	}
	w.failing[s] = f
	return f
}

func countSpans(s *Span) int {
	if s.Inferred {
		return 0
	}
	n := 1
	for _, c := range s.Children {
		n += countSpans(c)
	}
	return n
}

func (w *walker) duration(s *Span) float64 {
	if s.InProgress {
		return max(w.r.openEnd-s.Start, 0)
	}
	return s.End - s.Start
}

func (w *walker) keep(s *Span, depth int) bool {
	o := w.r.o
	if depth == 0 {
		return true
	}
	if o.ErrorsOnly && !w.failing[s] {
		return false
	}
	if o.MinDuration > 0 && !s.Failed() && !s.InProgress && w.duration(s) < o.MinDuration.Seconds() {
		return false
	}
	return true
}

// item is one row of the tree: a span, or a group of alike siblings.
type item struct {
	span  *Span
	group []*Span
}

func kindOf(s *Span) string { return s.Name + "\x00" + s.Operation + "\x00" + s.Method }

func (w *walker) items(spans []*Span, depth int) []item {
	kept := make([]*Span, 0, len(spans))
	for _, s := range spans {
		if s.Inferred && depth > 0 {
			continue // drawn as its calling subsegment, with the origin
		}
		if w.keep(s, depth) {
			kept = append(kept, s)
		} else {
			w.r.hidden += countSpans(s)
		}
	}
	items := make([]item, 0, len(kept))
	limit := w.r.o.Collapse
	if limit < 0 || len(kept) <= limit || depth == 0 {
		for _, s := range kept {
			items = append(items, item{span: s})
		}
		return items
	}
	count := map[string]int{}
	for _, s := range kept {
		count[kindOf(s)]++
	}
	at := map[string]int{}
	for _, s := range kept {
		k := kindOf(s)
		if count[k] <= limit {
			items = append(items, item{span: s})
			continue
		}
		if i, ok := at[k]; ok {
			items[i].group = append(items[i].group, s)
			continue
		}
		at[k] = len(items)
		items = append(items, item{group: append(make([]*Span, 0, count[k]), s)})
	}
	return items
}

func (w *walker) level(spans []*Span, depth int, indent string, root bool) {
	items := w.items(spans, depth)
	for i, it := range items {
		last := i == len(items)-1
		prefix, next := indent, indent
		if !root {
			if last {
				prefix, next = indent+"└─ ", indent+"   "
			} else {
				prefix, next = indent+"├─ ", indent+"│  "
			}
		}
		if it.group != nil {
			w.r.useAxis(w.axes[it.group[0]], indent, root)
			w.groupRow(it.group, prefix, next)
			for _, s := range it.group {
				w.r.hidden += countSpans(s) - 1
			}
			continue
		}
		s := it.span
		w.r.useAxis(w.axes[s], indent, root)
		w.spanRow(s, prefix, next, depth)
		if d := w.r.o.Depth; d > 0 && depth >= d {
			for _, c := range s.Children {
				w.r.hidden += countSpans(c)
			}
			continue
		}
		w.level(s.Children, depth+1, next, false)
	}
}

// label is the body of a span's label: its name, and for a remote call the
// operation or the method, status and host.
func (w *walker) label(s *Span, depth int) []piece {
	r := w.r
	name := piece{s.Name, r.plain}
	if depth == 0 {
		name.p = r.bold
	}
	ps := []piece{name}
	switch {
	case s.Operation != "":
		ps = append(ps, piece{" " + s.Operation, r.accent})
	case s.Method != "":
		text := " " + s.Method
		if s.Status != 0 {
			text += " " + strconv.Itoa(s.Status)
		}
		if s.Host != "" && s.Host != s.Name {
			text += " " + s.Host
		}
		ps = append(ps, piece{text, r.accent})
	}
	if s.Origin != "" && s.Remote() {
		ps = append(ps, piece{" → " + s.Origin, r.muted})
	}
	// A job's segment names its attempt wherever it hangs: at the top, or
	// under submit's root segment.
	if a, ok := s.Annotations["attempt"]; ok && (depth == 0 || s.Segment) {
		ps = append(ps, piece{" attempt " + annotationString(a), r.muted})
	}
	return ps
}

func annotationString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

func (w *walker) paint(s *Span) paint {
	switch classOf(s) {
	case classFault:
		return w.r.failed
	case classError, classThrottle:
		return w.r.warn
	}
	if s.InProgress {
		return w.r.running
	}
	return w.r.ok
}

func (w *walker) marks(s *Span) []piece {
	r := w.r
	var ps []piece
	add := func(text string, p paint) {
		if len(ps) > 0 {
			text = " " + text
		}
		ps = append(ps, piece{text, p})
	}
	switch classOf(s) {
	case classFault:
		add(ui.GlyphFailed+" fault", r.failed)
	case classThrottle:
		add(glyphThrottle+" throttle", r.warn)
	case classError:
		add(ui.GlyphWarn+" error", r.warn)
	}
	if s.InProgress {
		add(ui.GlyphRunning+" in progress", r.running)
	}
	return ps
}

func (w *walker) spanRow(s *Span, prefix, next string, depth int) {
	r := w.r
	p := w.paint(s)
	var bar []piece
	switch {
	case r.barW == 0:
	case s.InProgress:
		bar = r.openBar(s.Start, p)
	case s.End <= s.Start:
		bar = r.markBar(s.Start, p)
	default:
		bar = r.spanBar(s.Start, s.End, p)
	}
	dur := formatDuration(w.duration(s))
	if s.InProgress {
		dur += "+"
	}
	r.row(prefix, w.label(s, depth), w.marks(s), dur, bar)
	if s.Message != "" && s.Failed() {
		// Under a span with children the tree's line runs on past the
		// message to the first child.
		if d := r.o.Depth; len(s.Children) > 0 && (d == 0 || depth < d) {
			next += "│ "
		}
		r.line(piece{next, r.muted}, piece{glyphMessage + " " + s.Message, p})
	}
}

func (w *walker) groupRow(g []*Span, prefix, next string) {
	r := w.r
	durs := make([]float64, len(g))
	start, end := math.Inf(1), math.Inf(-1)
	var faults, errs, throttles, open int
	var failed *Span
	for i, s := range g {
		durs[i] = w.duration(s)
		start = min(start, s.Start)
		if s.InProgress {
			end = max(end, r.openEnd)
			open++
		} else {
			end = max(end, s.End)
		}
		switch classOf(s) {
		case classFault:
			faults++
		case classThrottle:
			throttles++
		case classError:
			errs++
		}
		if failed == nil && s.Failed() && s.Message != "" {
			failed = s
		}
	}
	sort.Float64s(durs)
	p50 := durs[(len(durs)+1)/2-1]
	body := w.label(g[0], 1)
	body = append(body, piece{" ×" + strconv.Itoa(len(g)), r.bold})
	marks := r.join(r.counts(faults, errs, throttles, open), " ")
	// The statistics go on the label when they fit, else on a line below,
	// where they are not cut.
	stats := piece{"p50 " + formatDuration(p50) + " max " + formatDuration(durs[len(durs)-1]), r.muted}
	used := width(prefix) + 2 + width(stats.text)
	for _, p := range append(body, marks...) {
		used += width(p.text)
	}
	below := used > r.labelW
	if !below {
		body = append(body, piece{"  " + stats.text, stats.p})
	}
	p := r.ok
	switch {
	case faults > 0:
		p = r.failed
	case errs+throttles > 0:
		p = r.warn
	}
	var bar []piece
	if r.barW > 0 {
		cells := make([]bool, r.barW)
		for _, s := range g {
			e := s.End
			if s.InProgress {
				e = r.openEnd
			}
			c0 := min(int(r.x(s.Start)), r.barW-1)
			c1 := max(int(math.Ceil(r.x(e))), c0+1)
			for c := c0; c < c1; c++ {
				cells[c] = true
			}
		}
		first := 0
		for !cells[first] {
			first++
		}
		var b strings.Builder
		gap := 0
		for c := first; c < r.barW; c++ {
			if !cells[c] {
				gap++
				continue
			}
			b.WriteString(strings.Repeat(" ", gap))
			gap = 0
			b.WriteString(glyphFull)
		}
		bar = []piece{{strings.Repeat(" ", first), r.plain}, {b.String(), p}}
	}
	r.row(prefix, body, marks, formatDuration(end-start), bar)
	if below {
		r.line(piece{next, r.muted}, piece{glyphMessage + " ", r.muted}, stats)
	}
	if failed != nil {
		r.line(piece{next, r.muted}, piece{glyphMessage + " " + failed.Message, w.paint(failed)})
	}
}
