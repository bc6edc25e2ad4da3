package events

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/jobs"
)

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
	if width > 0 {
		// The reason takes what is left; then the name gives way, down to
		// a few columns of each.
		fixed := w[0] + w[2] + w[3] + w[4] + 2*(len(w)-1)
		w[5] = max(min(w[5], width-fixed-w[1]), 6)
		w[1] = max(min(w[1], width-fixed-w[5]), 6)
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
