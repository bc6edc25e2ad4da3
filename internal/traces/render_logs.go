package traces

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// attemptLog writes, under a failed attempt's lifecycle row, the last lines
// of its output, or in one dim line why they could not be read.
func (r *renderer) attemptLog(attempt int) {
	l, ok := attemptLog(r.logs, attempt)
	switch {
	case !ok:
	case l.Unreadable != "":
		r.line(piece{"   log not read: " + l.Unreadable, r.muted})
	case len(l.Lines) == 0:
		r.line(piece{"   log: empty", r.muted})
	default:
		r.line(piece{"   log, last " + plural(len(l.Lines), "line") + ":", r.muted})
		for _, text := range l.Lines {
			r.line(piece{"   │ ", r.muted}, piece{logText(text), r.plain})
		}
	}
}

// logText is a line the job wrote, made safe to draw: without its escape
// sequences and control characters, tabs as spaces.
func logText(s string) string {
	s = ansi.Strip(strings.TrimRight(s, "\r\n"))
	return strings.Map(func(c rune) rune {
		switch {
		case c == '\t':
			return ' '
		case c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0:
			return -1
		}
		return c
	}, s)
}
