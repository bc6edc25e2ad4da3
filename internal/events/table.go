package events

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/jobs"
)

// minCut is the fewest columns a cut name or reason keeps.
const minCut = 6

// shortTime is the created time on a terminal too narrow for RFC 3339.
const shortTime = "01-02 15:04"

// Table is the listing as `batchxray jobs` prints it: one row a job (ID,
// name, status, created, duration, reason), the name and reason cut so
// that no line is wider than width (0: no limit). It is a pure function of
// the listing, now and the width.
func Table(l Listing, now time.Time, width int) string {
	header := []string{"ID", "NAME", "STATUS", "CREATED", "DURATION", "REASON"}
	rows := [][]string{header}
	for _, e := range l.Jobs {
		created, dur := "-", "-"
		if !e.CreatedAt.IsZero() {
			created = e.CreatedAt.UTC().Format(time.RFC3339)
		}
		if d := e.Duration(now); d > 0 {
			dur = jobs.FormatDuration(d)
		}
		rows = append(rows, []string{e.ID, e.Name, string(e.Status), created, dur, e.Reason})
	}
	w := make([]int, len(header))
	for _, r := range rows {
		for i, c := range r {
			w[i] = max(w[i], ansi.StringWidth(c))
		}
	}
	fixed := w[0] + w[2] + w[3] + w[4] + 2*(len(w)-1)
	if width > 0 && fixed+2*minCut > width {
		// Too narrow for whole times: the month, day and minute, in UTC.
		w[3] = len(header[3])
		for i, e := range l.Jobs {
			if !e.CreatedAt.IsZero() {
				rows[i+1][3] = e.CreatedAt.UTC().Format(shortTime)
				w[3] = max(w[3], len(shortTime))
			}
		}
		fixed = w[0] + w[2] + w[3] + w[4] + 2*(len(w)-1)
	}
	if width > 0 {
		// The reason takes what is left; then the name gives way, down to
		// a few columns of each.
		w[5] = max(min(w[5], width-fixed-w[1]), minCut)
		w[1] = max(min(w[1], width-fixed-w[5]), minCut)
	}
	var b strings.Builder
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			c = ansi.Truncate(c, w[i], "…")
			if i < len(r)-1 {
				fmt.Fprintf(&line, "%s%s  ", c, strings.Repeat(" ", w[i]-ansi.StringWidth(c)))
			} else {
				line.WriteString(c)
			}
		}
		out := strings.TrimRight(line.String(), " ")
		if width > 0 {
			out = ansi.Truncate(out, width, "…")
		}
		b.WriteString(out + "\n")
	}
	return b.String()
}
