package traces

import (
	"math"
	"strconv"
	"strings"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/ui"
)

// lifecycle writes one track per attempt: the Batch states it went
// through, as bars on the same axis as the spans.
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
		r.attemptLog(t.Attempt)
	}
	if len(tracks) > 0 && r.barW > 0 {
		legend := glyphQueued + " queued  "
		if starting {
			legend += glyphStarting + " starting  "
		}
		r.line(piece{r.blank(), r.plain}, piece{legend + glyphFull + " running", r.muted})
	}
}
