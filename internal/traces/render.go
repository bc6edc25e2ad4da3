package traces

import (
	"io"
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
	// life is the lifecycle's time axis, ax the one bars are drawn on now:
	// life, or a span axis of the segment being drawn.
	life timeAxis
	ax   *timeAxis
	// now is the clock; openEnd is where unfinished spans end.
	now, openEnd               float64
	ok, failed, warn, running  paint
	muted, accent, bold, plain paint
	b                          strings.Builder
	hidden                     int
	// logs are the failed attempts' last lines, drawn under their rows.
	logs []AttemptLog
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
