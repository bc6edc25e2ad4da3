package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/traces"
	"github.com/batchxray/batchxray/internal/ui"
)

// Options are how the terminal report is drawn.
type Options struct {
	// Width is the terminal's width in cells; lines never exceed it
	// (at least MinWidth is used).
	Width int
	// Color turns on the styles; off, the output is plain text.
	Color bool
}

// MinWidth is the narrowest report drawn; a narrower terminal wraps.
const MinWidth = 60

// Render draws the figures for the terminal. It is a pure function of the
// figures and options, so its output is byte-exact in a golden file.
func Render(f Figures, o Options) string {
	var b strings.Builder
	r := &renderer{w: &b, width: max(o.Width, MinWidth), st: ui.NewStyles(io.Discard, o.Color)}
	r.header(f)
	r.outcomes(f)
	r.distribution("Queue wait", f.Source.queueNote(f.Jobs), f.QueueWait)
	r.distribution("Run time", "the attempts' running time, per job", f.RunTime)
	r.attempts(f.Attempts)
	r.failures(f.Failures)
	r.subsegments(f)
	r.slowest(f.Slowest)
	return b.String()
}

type renderer struct {
	w     *strings.Builder
	width int
	st    ui.Styles
}

func (r *renderer) line(format string, a ...any) {
	s := strings.TrimRight(fmt.Sprintf(format, a...), " ")
	r.w.WriteString(ansi.Truncate(s, r.width, "…"))
	r.w.WriteByte('\n')
}

func (r *renderer) section(title, note string) {
	r.w.WriteByte('\n')
	if note != "" {
		r.line("%s  %s", r.st.Bold.Render(title), r.st.Muted.Render(note))
		return
	}
	r.line("%s", r.st.Bold.Render(title))
}

func (r *renderer) header(f Figures) {
	jobs := plural(f.Jobs, "job")
	if f.Arrays > 0 {
		jobs += fmt.Sprintf(" (from %s)", plural(f.Arrays, "array job"))
	}
	r.line("%s  %s · %d traced (%s)", r.st.Accent.Render("batchxray report"), jobs, f.Traced, plural(f.Traces, "trace"))
	if !f.From.IsZero() {
		r.line("%s", r.st.Muted.Render(fmt.Sprintf("jobs created %s to %s",
			f.From.UTC().Format("2006-01-02 15:04"), f.To.UTC().Format("2006-01-02 15:04 MST"))))
	}
	if line := f.Source.describe(f.Jobs); line != "" {
		r.line("%s", r.st.Muted.Render(line))
	}
}

// describe is the line that says where the job figures came from; "" when
// no events group was asked about.
func (s Source) describe(jobs int) string {
	switch {
	case s.EventsGroup == "":
		return ""
	case s.Unread != "":
		return "states from DescribeJobs (" + s.Unread + ")"
	case s.FromEvents == 0:
		return "states from DescribeJobs: no job events recorded in " + s.EventsGroup
	}
	line := fmt.Sprintf("states from the job events in %s", s.EventsGroup)
	if s.FromEvents < jobs {
		line += fmt.Sprintf(" (%d of %d jobs; the rest from DescribeJobs)", s.FromEvents, jobs)
	}
	if s.Forgotten > 0 {
		line += fmt.Sprintf(", %s Batch no longer returns", plural(s.Forgotten, "job"))
	}
	return line
}

// queueNote says what the queue wait measures.
func (s Source) queueNote(jobs int) string {
	switch {
	case s.FromEvents == 0:
		return "from creation to the first attempt's start"
	case s.FromEvents < jobs:
		return "RUNNABLE to STARTING where recorded, else creation to start"
	}
	return "from RUNNABLE to STARTING, as recorded"
}

func (r *renderer) outcomes(f Figures) {
	r.section("Jobs by outcome", "")
	if f.Jobs == 0 {
		r.line("  no jobs")
		return
	}
	most := 0
	for _, o := range f.Outcomes {
		most = max(most, o.Count)
	}
	barW := max(r.width-34, 4)
	for _, o := range f.Outcomes {
		glyph, style := r.statusStyle(o.Status)
		label := style.Render(fmt.Sprintf("%s %-9s", glyph, o.Status))
		r.line("  %s %7d %5.1f%%  %s", label, o.Count, 100*float64(o.Count)/float64(f.Jobs),
			style.Render(bar(o.Count, most, barW)))
	}
}

func (r *renderer) statusStyle(s string) (string, lipgloss.Style) {
	switch s {
	case "SUCCEEDED":
		return ui.GlyphOK, r.st.OK
	case "FAILED":
		return ui.GlyphFailed, r.st.Failed
	case "RUNNING", "STARTING":
		return ui.GlyphRunning, r.st.Running
	}
	return ui.GlyphPending, r.st.Muted
}

func (r *renderer) distribution(title, note string, d Distribution) {
	r.section(title, note)
	if d.Count == 0 {
		r.line("  none")
		return
	}
	r.line("  count %d   p50 %s   p95 %s   max %s", d.Count, traces.FormatSeconds(d.P50Seconds), traces.FormatSeconds(d.P95Seconds), traces.FormatSeconds(d.MaxSeconds))
	most := 0
	for _, b := range d.Histogram {
		most = max(most, b.Count)
	}
	barW := max(r.width-26, 4)
	for _, b := range d.Histogram {
		edge := fmt.Sprintf("%s–%s", traces.FormatSeconds(b.FromSeconds), traces.FormatSeconds(b.ToSeconds))
		r.line("  %13s %7d %s", edge, b.Count, r.st.Running.Render(bar(b.Count, most, barW)))
	}
}

func (r *renderer) attempts(a Attempts) {
	r.section("Attempts", "")
	for _, c := range a.ByCount {
		r.line("  %-11s %s", plural(c.Attempts, "attempt"), plural(c.Jobs, "job"))
	}
	r.line("  retried %s, %d then succeeded; %s failed", plural(a.Retried, "job"), a.RetriedSucceeded, plural(a.FailedAttempts, "attempt"))
}

func (r *renderer) failures(fs []Failure) {
	r.section("Failure reasons", "")
	if len(fs) == 0 {
		r.line("  no job failed")
		return
	}
	r.line("  %s", r.st.Muted.Render(fmt.Sprintf("%7s  %s", "JOBS", "REASON / EXAMPLE")))
	for _, f := range fs {
		r.line("  %7d  %s", f.Count, r.st.Failed.Render(f.Reason))
		// Never cut: the command is what the user copies.
		fmt.Fprintf(r.w, "  %7s  %s\n", "", r.st.Muted.Render(fmt.Sprintf("e.g. %s: batchxray trace %s", f.ExampleName, f.ExampleID)))
	}
}

func (r *renderer) subsegments(f Figures) {
	r.section("Subsegments by name", "heaviest first; share of traced time")
	if len(f.Subsegments) == 0 {
		r.line("  no subsegments in %s", plural(f.Traces, "trace"))
		return
	}
	// On a narrow terminal the total goes and the failure counts share one
	// column, so the name keeps some room.
	const wideFixed, narrowFixed = 2 + 8 + 4*7 + 7 + 3*6, 2 + 8 + 3*7 + 7 + 9
	wide := r.width-wideFixed >= 16
	nameW := max(r.width-narrowFixed, 10)
	if wide {
		nameW = r.width - wideFixed
	}
	if wide {
		r.line("  %s", r.st.Muted.Render(fmt.Sprintf("%-*s %7s %6s %6s %6s %6s %6s %5s %5s %5s", nameW, "NAME", "CALLS", "P50", "P95", "MAX", "TOTAL", "SHARE", "ERR", "FAULT", "THROT")))
	} else {
		r.line("  %s", r.st.Muted.Render(fmt.Sprintf("%-*s %7s %6s %6s %6s %6s %8s", nameW, "NAME", "CALLS", "P50", "P95", "MAX", "SHARE", "E/F/T")))
	}
	for _, s := range f.Subsegments {
		name := ansi.Truncate(s.Name, nameW, "…")
		name += strings.Repeat(" ", max(nameW-ansi.StringWidth(name), 0))
		var row string
		if wide {
			row = fmt.Sprintf("%s %7d %6s %6s %6s %6s %5.1f%% %5s %5s %5s", name, s.Count,
				traces.FormatSeconds(s.P50Seconds), traces.FormatSeconds(s.P95Seconds), traces.FormatSeconds(s.MaxSeconds), traces.FormatSeconds(s.TotalSeconds), 100*s.Share,
				count(s.Errors), count(s.Faults), count(s.Throttles))
		} else {
			row = fmt.Sprintf("%s %7d %6s %6s %6s %5.1f%% %8s", name, s.Count,
				traces.FormatSeconds(s.P50Seconds), traces.FormatSeconds(s.P95Seconds), traces.FormatSeconds(s.MaxSeconds), 100*s.Share,
				fmt.Sprintf("%d/%d/%d", s.Errors, s.Faults, s.Throttles))
		}
		if s.Errors+s.Faults+s.Throttles > 0 {
			row = r.st.Warn.Render(row)
		}
		r.line("  %s", row)
	}
}

func (r *renderer) slowest(js []SlowJob) {
	r.section("Slowest jobs", "by run time; draw one with the command")
	if len(js) == 0 {
		r.line("  no job has run")
		return
	}
	nameW := 3
	for _, j := range js {
		nameW = max(nameW, ansi.StringWidth(j.Name))
	}
	nameW = min(nameW, max(r.width/4, 8))
	r.line("  %s", r.st.Muted.Render(fmt.Sprintf("%6s %6s %3s  %-11s  %-*s  %s", "RUN", "QUEUE", "ATT", "STATUS", nameW, "JOB", "COMMAND")))
	for _, j := range js {
		glyph, style := r.statusStyle(j.Status)
		name := ansi.Truncate(j.Name, nameW, "…")
		row := fmt.Sprintf("  %6s %6s %3d  %s  %s", traces.FormatSeconds(j.RunSeconds), traces.FormatSeconds(j.QueueSeconds), j.Attempts,
			style.Render(fmt.Sprintf("%s %-9s", glyph, j.Status)), name+strings.Repeat(" ", nameW-ansi.StringWidth(name)))
		// The command is what the user copies: never cut, so on a narrow
		// terminal it goes on a line of its own.
		if one := row + "  " + j.Command; ansi.StringWidth(one) <= r.width {
			r.line("%s  %s", row, r.st.Accent.Render(j.Command))
			continue
		}
		r.line("%s", row)
		fmt.Fprintf(r.w, "%21s%s\n", "", r.st.Accent.Render(j.Command))
	}
}

// bar is a run of blocks n/most of width cells long, at least one cell for
// any n > 0, in eighths.
func bar(n, most, width int) string {
	if n <= 0 || most <= 0 {
		return ""
	}
	eighths := int(math.Round(float64(n) / float64(most) * float64(width*8)))
	eighths = max(eighths, 1)
	s := strings.Repeat("█", eighths/8)
	if rest := eighths % 8; rest > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[rest-1])
	}
	return s
}

func count(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
