package traces

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// paint is a style reduced to the bytes it puts around a single-line
// string. Rendering through lipgloss for each of thousands of pieces costs
// more than the drawing itself; the escape sequences never change, so they
// are worked out once.
type paint struct{ pre, post string }

func newPaint(s lipgloss.Style) paint {
	out := s.Render("X")
	i := strings.Index(out, "X")
	if i < 0 {
		return paint{}
	}
	return paint{pre: out[:i], post: out[i+1:]}
}

// piece is a run of text in one style; width is its width in cells.
type piece struct {
	text string
	p    paint
}

// width is the width of s in cells, as ansi.StringWidth measures it. Most of
// what the drawing measures is ASCII and box drawing, block and geometric
// characters, one cell each, which are counted without the grapheme parser
// that otherwise dominates the cost of a big trace.
func width(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f, r >= 0x2500 && r <= 0x25fa:
			n++
		default:
			return ansi.StringWidth(s)
		}
	}
	return n
}

// truncate cuts plain text to at most n cells, ending with an ellipsis when
// something was cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if width(s) <= n {
		return s
	}
	return ansi.Truncate(s, n, "…")
}

func pad(s string, n int) string {
	if w := width(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

func padLeft(s string, n int) string {
	if w := width(s); w < n {
		return strings.Repeat(" ", n-w) + s
	}
	return s
}

// seconds turns a time into X-Ray's epoch seconds.
func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// FormatSeconds writes a duration given in seconds as the waterfall does,
// in at most six cells; the report's tables and timeline use it too.
func FormatSeconds(s float64) string { return formatDuration(s) }

// formatDuration writes a duration in at most six cells, with the precision
// a reader needs at that size.
func formatDuration(s float64) string {
	switch {
	case s <= 0:
		return "0ms"
	case s < 0.00995:
		return fmt.Sprintf("%.1fms", s*1000)
	case s < 0.9995:
		return fmt.Sprintf("%.0fms", s*1000)
	case s < 9.995:
		return fmt.Sprintf("%.2fs", s)
	case s < 59.95:
		return fmt.Sprintf("%.1fs", s)
	case s < 3600:
		m := int(math.Round(s))
		return fmt.Sprintf("%dm%02ds", m/60, m%60)
	default:
		m := int(math.Round(s / 60))
		return fmt.Sprintf("%dh%02dm", m/60, m%60)
	}
}

// tickSteps are the axis steps the drawing may use: 1, 2 and 5 times a
// power of ten up to ten seconds, then the steps a clock has.
var tickSteps = []float64{
	0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10,
	15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400,
}

// tickStep returns the smallest nice step that divides span into at most n
// intervals.
func tickStep(span float64, n int) float64 {
	if n < 1 {
		n = 1
	}
	raw := span / float64(n)
	for _, s := range tickSteps {
		if s >= raw {
			return s
		}
	}
	return math.Ceil(raw/86400) * 86400
}

// tickLabel writes the offset v of a tick on an axis of the given span, in
// one unit for the whole axis: milliseconds under a second, seconds with the
// decimals the step needs under a minute, then minutes and hours.
func tickLabel(v, step, span float64) string {
	switch {
	case v < step/2:
		return "0"
	case span < 1:
		return fmt.Sprintf("%.0fms", v*1000)
	case step < 1:
		decimals := int(math.Ceil(-math.Log10(step) - 1e-9))
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.*f", decimals, v), "0"), ".") + "s"
	case v < 59.5:
		return fmt.Sprintf("%.0fs", v)
	case v < 3599.5:
		t := int(math.Round(v))
		if t%60 == 0 {
			return fmt.Sprintf("%dm", t/60)
		}
		return fmt.Sprintf("%dm%02ds", t/60, t%60)
	default:
		t := int(math.Round(v / 60))
		if t%60 == 0 {
			return fmt.Sprintf("%dh", t/60)
		}
		return fmt.Sprintf("%dh%02dm", t/60, t%60)
	}
}
