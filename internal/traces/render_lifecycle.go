package traces

import (
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/ui"
)

// The glyphs of the states before RUNNING, each its own so that a job
// whose states are known apart (from Batch's events) shows them apart:
// lighter the further the job was from running.
const (
	glyphSubmitted = "·"
	glyphPending   = "┄"
	glyphRunnable  = "▓"
)

// stateGlyphs are the glyphs of the lifecycle's states, in lifecycle order
// for the legend; queued (time in no known state) and running are the
// legend's own.
var stateGlyphs = []struct {
	state jobs.State
	glyph string
}{
	{jobs.Submitted, glyphSubmitted},
	{jobs.Pending, glyphPending},
	{jobs.Runnable, glyphRunnable},
	{jobs.Starting, glyphStarting},
}

// lifecycle writes one track per attempt: the Batch states it went
// through, as bars on the same axis as the spans, then a legend of the
// glyphs drawn and where the states come from.
func (r *renderer) lifecycle(tracks []Track) {
	used := map[jobs.State]bool{}
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
				for _, sg := range stateGlyphs {
					if sg.state == ph.State {
						glyph = sg.glyph
					}
				}
				if ph.State == jobs.Running {
					glyph, p = glyphFull, run
				}
				used[ph.State] = true
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
	if len(tracks) == 0 {
		return
	}
	var legend []string
	if r.barW > 0 {
		if used[StateQueued] {
			legend = append(legend, glyphQueued+" queued")
		}
		for _, sg := range stateGlyphs {
			if used[sg.state] {
				legend = append(legend, sg.glyph+" "+strings.ToLower(string(sg.state)))
			}
		}
		legend = append(legend, glyphFull+" running")
		// As many lines as the bars' width takes, never cut.
		line := ""
		for _, l := range legend {
			if line != "" && ansi.StringWidth(line+"  "+l) > r.barW {
				r.line(piece{r.blank(), r.plain}, piece{line, r.muted})
				line = ""
			}
			if line != "" {
				line += "  "
			}
			line += l
		}
		r.line(piece{r.blank(), r.plain}, piece{line, r.muted})
	}
	indent := "   "
	if r.barW > 0 {
		indent = r.blank()
	}
	r.line(piece{indent, r.plain}, piece{statesFrom(tracks[0].StatesFrom), r.muted})
}

// statesFrom is the legend's word on where the states come from.
func statesFrom(source string) string {
	if source == jobs.FromEvents {
		return "states from Batch's job events"
	}
	return "states from DescribeJobs"
}
