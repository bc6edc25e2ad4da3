package traces

import (
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/ui"
)

// DefaultCollapse is how many siblings of the same kind are drawn one by
// one; more are drawn as one row.
const DefaultCollapse = 5

// DefaultWidth is the width used when none is given.
const DefaultWidth = 80

// Options shape a drawing. The zero value draws everything at DefaultWidth
// without colour, with the clock at the Unix epoch: callers pass Now.
type Options struct {
	// Width is the number of cells no line may exceed. Below 60 the bars
	// are dropped and only the tree and durations remain.
	Width int
	// Color turns on ANSI colour. Without it the output is plain text; a
	// glyph and a word carry every meaning either way.
	Color bool
	// Now ends the bars of whatever is still running.
	Now time.Time
	// Depth limits the levels drawn below the segments; 0 draws all.
	Depth int
	// MinDuration hides spans shorter than it (and what is under them),
	// unless they failed or are in progress.
	MinDuration time.Duration
	// ErrorsOnly draws only the spans that failed and the path to them.
	ErrorsOnly bool
	// Collapse is how many siblings of the same name and operation are drawn
	// one by one before they become a single row with a count, p50 and max:
	// 0 means DefaultCollapse and a negative value never collapses.
	Collapse int
}

// Layout of a row: label, duration, bar.
const (
	durW       = 7
	minBarLine = 60
)

// Glyphs of the drawing that ui does not define.
const (
	glyphThrottle = "⧗"
	glyphZero     = "◆"
	glyphOpen     = "╌"
	glyphOpenEnd  = "▸"
	glyphQueued   = "░"
	glyphStarting = "▒"
	glyphFull     = "█"
	glyphMessage  = "↳"
)

// leftBlocks are the partial cells by eighths: leftBlocks[n] fills n/8 of a
// cell from its left.
var leftBlocks = [...]string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"}

type renderer struct {
	o            Options
	w            int
	labelW, barW int
	// The time axis: t0 to t1, with [t0, tb) squeezed into the first k
	// cells when the wait is long, then scale cells a second.
	t0, tb, t1, scale float64
	k                 int
	// now is the clock; openEnd is where unfinished spans end.
	now, openEnd               float64
	ok, failed, warn, running  paint
	muted, accent, bold, plain paint
	b                          strings.Builder
	hidden                     int
}

// Render draws a view: the header, then for a job its lifecycle and
// waterfall on one time axis and the service map, or for an array parent
// the table of its children. Every line fits in o.Width cells.
func Render(v View, o Options) string {
	r := newRenderer(o)
	r.header(v)
	if len(v.Children) > 0 {
		r.table(v)
	} else {
		r.waterfall(v)
	}
	return r.b.String()
}

func newRenderer(o Options) *renderer {
	if o.Width <= 0 {
		o.Width = DefaultWidth
	}
	if o.Collapse == 0 {
		o.Collapse = DefaultCollapse
	}
	st := ui.NewStyles(io.Discard, o.Color)
	r := &renderer{
		o: o, w: o.Width, now: seconds(o.Now),
		ok: newPaint(st.OK), failed: newPaint(st.Failed), warn: newPaint(st.Warn),
		running: newPaint(st.Running), muted: newPaint(st.Muted), accent: newPaint(st.Accent),
		bold: newPaint(st.Bold),
	}
	if r.w >= minBarLine {
		r.labelW = min(max(r.w*9/20, 26), 64)
		r.barW = r.w - r.labelW - durW - 2
	} else {
		r.labelW = max(r.w-durW-1, 1)
	}
	return r
}

// line writes pieces as one line, cut to the width, without trailing
// blanks.
func (r *renderer) line(ps ...piece) {
	for len(ps) > 0 {
		last := &ps[len(ps)-1]
		last.text = strings.TrimRight(last.text, " ")
		if last.text != "" {
			break
		}
		ps = ps[:len(ps)-1]
	}
	used := 0
	for _, p := range ps {
		w := width(p.text)
		text := p.text
		if used+w > r.w {
			text = truncate(text, r.w-used)
			w = r.w - used
		}
		if text != "" {
			r.b.WriteString(p.p.pre)
			r.b.WriteString(text)
			r.b.WriteString(p.p.post)
		}
		used += w
		if used >= r.w {
			break
		}
	}
	r.b.WriteByte('\n')
}

func (r *renderer) statusPiece(status jobs.State) piece {
	switch status {
	case jobs.Succeeded:
		return piece{ui.GlyphOK + " " + string(status), r.ok}
	case jobs.Failed:
		return piece{ui.GlyphFailed + " " + string(status), r.failed}
	case jobs.Running, jobs.Starting:
		return piece{ui.GlyphRunning + " " + string(status), r.running}
	case "":
		return piece{ui.GlyphPending + " UNKNOWN", r.muted}
	}
	return piece{ui.GlyphPending + " " + string(status), r.warn}
}

func (r *renderer) header(v View) {
	j := v.Job
	title := []piece{{j.Name, r.bold}}
	if j.Name == "" {
		title[0].text = "job"
	}
	title = append(title, piece{"  " + j.ID, r.muted})
	switch {
	case j.Array != nil:
		title = append(title, piece{"  array of " + strconv.Itoa(j.Array.Size), r.plain})
	case j.ArrayIndex != nil:
		title = append(title, piece{"  index " + strconv.Itoa(*j.ArrayIndex), r.plain})
	}
	r.line(title...)

	facts := []string{}
	now := r.o.Now
	if !j.CreatedAt.IsZero() {
		facts = append(facts, "total "+formatDuration(j.End(now).Sub(j.CreatedAt).Seconds()))
		if s := j.Started(); !s.IsZero() {
			facts = append(facts, "queued "+formatDuration(s.Sub(j.CreatedAt).Seconds()))
		}
	}
	if s := j.Started(); !s.IsZero() {
		facts = append(facts, "ran "+formatDuration(j.End(now).Sub(s).Seconds()))
	}
	if n := len(j.Attempts); n == 1 {
		facts = append(facts, "1 attempt")
	} else if n > 1 {
		facts = append(facts, strconv.Itoa(n)+" attempts")
	}
	chunks := make([][]piece, 0, len(facts))
	for _, f := range facts {
		chunks = append(chunks, []piece{{f, r.plain}})
	}
	st := r.statusPiece(j.Status)
	st.text += "  "
	r.flow(st, chunks, piece{" · ", r.plain})
	if j.StatusReason != "" && j.Status == jobs.Failed {
		r.line(piece{"reason: " + j.StatusReason, r.muted})
	}
	if len(v.Children) > 0 {
		return
	}
	lead := piece{"X-Ray  ", r.muted}
	chunks = chunks[:0]
	switch len(v.Traces) {
	case 0:
		r.line(lead, piece{"no trace", r.muted})
		return
	case 1:
		chunks = append(chunks, []piece{{"trace " + v.Traces[0].ID, r.plain}})
	default:
		chunks = append(chunks, []piece{{strconv.Itoa(len(v.Traces)) + " traces", r.plain}})
	}
	sum := Summarize(v.Traces)
	chunks = append(chunks, []piece{{plural(sum.Spans, "span"), r.plain}})
	for _, c := range r.counts(sum.Faults, sum.Errors, sum.Throttles, sum.InProgress) {
		chunks = append(chunks, []piece{c})
	}
	r.flow(lead, chunks, piece{" · ", r.muted})
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// counts are the failure counts that are not zero, each a glyph, a number
// and a word.
func (r *renderer) counts(faults, errs, throttles, open int) []piece {
	var ps []piece
	add := func(n int, glyph, word string, p paint) {
		if n > 0 {
			ps = append(ps, piece{glyph + " " + plural(n, word), p})
		}
	}
	add(faults, ui.GlyphFailed, "fault", r.failed)
	add(errs, ui.GlyphWarn, "error", r.warn)
	add(throttles, glyphThrottle, "throttle", r.warn)
	if open > 0 {
		ps = append(ps, piece{ui.GlyphRunning + " " + strconv.Itoa(open) + " in progress", r.running})
	}
	return ps
}

// join puts sep between pieces.
func (r *renderer) join(ps []piece, sep string) []piece {
	out := make([]piece, 0, 2*len(ps))
	for i, p := range ps {
		if i > 0 {
			out = append(out, piece{sep, r.plain})
		}
		out = append(out, p)
	}
	return out
}

// flow writes chunks after a lead, separated by sep, wrapping onto lines
// indented under the lead when the next chunk would not fit.
func (r *renderer) flow(lead piece, chunks [][]piece, sep piece) {
	indent := strings.Repeat(" ", width(lead.text))
	line, used, n := []piece{lead}, width(lead.text), 0
	for _, c := range chunks {
		cw := 0
		for _, p := range c {
			cw += width(p.text)
		}
		if n > 0 {
			if used+width(sep.text)+cw > r.w {
				r.line(line...)
				line, used, n = []piece{{indent, r.plain}}, len(indent), 0
			} else {
				line = append(line, sep)
				used += width(sep.text)
			}
		}
		line = append(line, c...)
		used += cw
		n++
	}
	r.line(line...)
}

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

func (r *renderer) waterfall(v View) {
	tracks := Lifecycle(v.Job, r.o.Now)
	// A span left in progress by a job that has stopped will never end:
	// its bar stops with the job rather than stretching the axis to now.
	r.openEnd = r.now
	if !v.Job.CreatedAt.IsZero() {
		r.openEnd = seconds(v.Job.End(r.o.Now))
	}
	r.axis(v, tracks)
	r.b.WriteByte('\n')
	if r.barW > 0 {
		r.ruler()
	}
	r.lifecycle(tracks)
	var roots []*Span
	for _, t := range v.Traces {
		roots = append(roots, t.Roots...)
	}
	sortSpans(roots)
	w := &walker{r: r}
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
	}
}

func (r *renderer) lifecycle(tracks []Track) {
	starting := false
	for _, t := range tracks {
		label := []piece{{"attempt " + strconv.Itoa(t.Attempt), r.bold}}
		var marks []piece
		exit := ""
		if t.ExitCode != nil {
			exit = " exit " + strconv.Itoa(*t.ExitCode)
		}
		run := r.ok
		switch t.Outcome {
		case OutcomeSucceeded:
			marks = append(marks, piece{ui.GlyphOK + exit, r.ok})
		case OutcomeFailed:
			if exit == "" {
				exit = " failed"
			}
			marks = append(marks, piece{ui.GlyphFailed + exit, r.failed})
			run = r.failed
		case OutcomeRunning:
			marks = append(marks, piece{ui.GlyphRunning + " running", r.running})
			run = r.running
		default:
			marks = append(marks, piece{ui.GlyphPending + " waiting", r.warn})
		}
		var bar []piece
		if r.barW > 0 {
			cur := 0
			for _, ph := range t.Phases {
				c0 := max(int(math.Round(r.x(seconds(ph.Start)))), cur)
				c1 := min(int(math.Round(r.x(seconds(ph.End)))), r.barW)
				if ph.End.After(ph.Start) {
					c1 = max(c1, c0+1)
				}
				c1 = min(c1, r.barW)
				if c1 <= c0 {
					continue
				}
				glyph, p := glyphQueued, r.muted
				switch ph.State {
				case jobs.Starting:
					glyph, starting = glyphStarting, true
				case jobs.Running:
					glyph, p = glyphFull, run
				}
				if c0 > cur {
					bar = append(bar, piece{strings.Repeat(" ", c0-cur), r.plain})
				}
				bar = append(bar, piece{strings.Repeat(glyph, c1-c0), p})
				cur = c1
			}
		}
		r.row("", label, marks, formatDuration(t.End().Sub(t.Start()).Seconds()), bar)
		if t.Reason != "" && t.Outcome == OutcomeFailed {
			r.line(piece{"   " + glyphMessage + " " + t.Reason, r.failed})
		}
	}
	if len(tracks) > 0 && r.barW > 0 {
		legend := glyphQueued + " queued  "
		if starting {
			legend += glyphStarting + " starting  "
		}
		r.line(piece{r.blank(), r.plain}, piece{legend + glyphFull + " running", r.muted})
	}
}

// walker lays out the span tree, applying the filters and collapsing
// repeated siblings.
type walker struct {
	r       *renderer
	failing map[*Span]bool
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
			w.groupRow(it.group, prefix, next)
			for _, s := range it.group {
				w.r.hidden += countSpans(s) - 1
			}
			continue
		}
		s := it.span
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
	if a, ok := s.Annotations["attempt"]; ok && depth == 0 {
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

// services writes the service map, wrapped at the width.
func (r *renderer) services(sum Summary) {
	chunks := make([][]piece, 0, len(sum.Services))
	for _, sc := range sum.Services {
		entry := []piece{{sc.Name, r.bold}}
		add := func(n int, glyph string, p paint) {
			if n > 0 {
				entry = append(entry, piece{" " + glyph + strconv.Itoa(n), p})
			}
		}
		add(sc.OK, ui.GlyphOK, r.ok)
		add(sc.Errors, ui.GlyphWarn, r.warn)
		add(sc.Throttles, glyphThrottle, r.warn)
		add(sc.Faults, ui.GlyphFailed, r.failed)
		chunks = append(chunks, entry)
	}
	r.flow(piece{"services  ", r.muted}, chunks, piece{" · ", r.muted})
}
