package jobs

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/ui"
)

// Rendering is a pure function of the jobs, the time and the width, so its
// output is byte-exact in golden files. Colour comes in through the styles
// only; a glyph and a word always carry the meaning too.

// stateLabel is a state's glyph and name, styled.
func stateLabel(s State, st ui.Styles) string {
	switch s {
	case Succeeded:
		return st.OK.Render(ui.GlyphOK + " " + string(s))
	case Failed:
		return st.Failed.Render(ui.GlyphFailed + " " + string(s))
	case Running, Starting:
		return st.Running.Render(ui.GlyphRunning + " " + string(s))
	case "":
		return st.Muted.Render(ui.GlyphPending + " UNKNOWN")
	}
	return st.Muted.Render(ui.GlyphPending + " " + string(s))
}

// FormatDuration is a duration as the lines show it: tenths of a second
// under a minute, then minutes and seconds, then hours and minutes.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// stateTimes lists the time spent in each state seen so far, in lifecycle
// order; with upTo set, only the states before it.
func stateTimes(j *Job, now time.Time, upTo State) string {
	d := j.Durations(now)
	var parts []string
	for _, s := range States {
		if s == upTo {
			break
		}
		if v, ok := d[s]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", s, FormatDuration(v)))
		}
	}
	return strings.Join(parts, " › ")
}

// counts is an array's children by state, in lifecycle order.
func counts(a *Array, st ui.Styles) string {
	var parts []string
	for _, s := range States {
		if n := a.Counts[s]; n > 0 {
			label := fmt.Sprintf("%d %s", n, s)
			switch s {
			case Succeeded:
				label = st.OK.Render(label)
			case Failed:
				label = st.Failed.Render(label)
			case Running, Starting:
				label = st.Running.Render(label)
			}
			parts = append(parts, label)
		}
	}
	if len(parts) == 0 {
		return "none yet"
	}
	return strings.Join(parts, " · ")
}

// LiveLine is one job's lifecycle so far on one line, for a terminal where
// it is redrawn in place: its state, the time in each state, the attempt,
// and an array's children by state. It is cut to width.
func LiveLine(j *Job, now time.Time, width int, st ui.Styles) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s  %s", stateLabel(j.Status, st), st.Bold.Render(j.Name), st.Muted.Render(stateTimes(j, now, "")))
	if j.Array == nil && j.MaxAttempts > 1 {
		fmt.Fprintf(&b, "  attempt %d/%d", j.Attempt(), j.MaxAttempts)
	}
	if j.Array != nil {
		fmt.Fprintf(&b, "  children: %s", counts(j.Array, st))
	}
	return cut(b.String(), width)
}

// LiveLineMany sums up many jobs on one line: how many are in each state.
func LiveLineMany(jobs []*Job, now time.Time, width int, st ui.Styles) string {
	if len(jobs) == 1 {
		return LiveLine(jobs[0], now, width, st)
	}
	a := &Array{Counts: map[State]int{}}
	for _, j := range jobs {
		a.Counts[j.Status]++
	}
	return cut(fmt.Sprintf("%d jobs: %s", len(jobs), counts(a, st)), width)
}

// cut keeps a line within width columns, so redrawing it in place never
// wraps.
func cut(s string, width int) string {
	if width <= 1 {
		return s
	}
	return ansi.Truncate(s, width-1, "…")
}

// TransitionLine is the line written off a terminal when a job changes
// state: the RFC 3339 time it was seen, the job, the states, and on the
// end of a job why it ended.
func TransitionLine(j *Job, st ui.Styles) string {
	n := len(j.Transitions)
	if n == 0 {
		return ""
	}
	t := j.Transitions[n-1]
	states := stateLabel(t.State, st)
	if prev := j.Previous(); prev != "" {
		states = string(prev) + " → " + states
	}
	line := fmt.Sprintf("%s %s (%s) %s", t.At.Format(time.RFC3339), j.Name, j.ID, states)
	if t.State == Failed {
		if r := FailureReason(j); r != "" {
			line += ": " + r
		}
	}
	if t.State == Running && j.MaxAttempts > 1 {
		line += fmt.Sprintf(" (attempt %d/%d)", j.Attempt(), j.MaxAttempts)
	}
	return line
}

// ArrayLine is the line written off a terminal when an array job's
// children counts change.
func ArrayLine(j *Job, at time.Time, st ui.Styles) string {
	return fmt.Sprintf("%s %s (%s) children: %s", at.Format(time.RFC3339), j.Name, j.ID, counts(j.Array, st))
}

// maxFailedChildren is how many failed children a summary names.
const maxFailedChildren = 10

// Summary is a job's report: its state and name, queue, times, the queue
// wait and run time with the time in each state, every attempt with its
// exit code and reason, the log stream, an array's children, and the
// command that shows the trace. It ends with a newline.
func Summary(j *Job, now time.Time, st ui.Styles) string {
	var b strings.Builder
	header := fmt.Sprintf("%s %s (%s)", stateLabel(j.Status, st), st.Bold.Render(j.Name), j.ID)
	if j.Status == Failed {
		if r := FailureReason(j); r != "" {
			header += ": " + r
		}
	}
	b.WriteString(header + "\n")
	row := func(label, value string) {
		fmt.Fprintf(&b, "  %-11s %s\n", label, value)
	}
	row("queue", j.Queue)
	times := "created " + stamp(j.CreatedAt)
	if !j.StartedAt.IsZero() {
		times += ", started " + stamp(j.StartedAt)
	}
	if !j.StoppedAt.IsZero() {
		times += ", stopped " + stamp(j.StoppedAt)
	}
	row("times", times)
	wait := FormatDuration(j.QueueWait(now))
	if pre := stateTimes(j, now, Running); pre != "" {
		wait += st.Muted.Render("  (" + pre + ")")
	}
	row("queue wait", wait)
	if j.Array == nil {
		row("run time", FormatDuration(j.RunTime(now)))
	}
	for i, a := range j.Attempts {
		row(fmt.Sprintf("attempt %d", i+1), attemptLine(a))
	}
	if (j.Status == Running || j.Status == Starting) && j.Array == nil {
		row(fmt.Sprintf("attempt %d", j.Attempt()), stateLabel(j.Status, st)+" since "+stamp(j.StartedAt))
	}
	if j.Array != nil {
		row("children", fmt.Sprintf("%d: %s", j.Array.Size, counts(j.Array, st)))
		for i, c := range j.Array.FailedChildren {
			if i == maxFailedChildren {
				row("", fmt.Sprintf("and %d more failed", len(j.Array.FailedChildren)-i))
				break
			}
			label := ""
			if i == 0 {
				label = "failed"
			}
			row(label, childLine(c, st))
		}
	}
	row("states", statesFrom(j))
	// The reasons the job had on the way, which DescribeJobs overwrites:
	// each one once, the last (in the header or attempts) left out.
	label, last := "reasons", ""
	for _, t := range j.Transitions {
		if t.Reason == "" || t.Reason == last || t.Reason == j.StatusReason {
			continue
		}
		last = t.Reason
		row(label, fmt.Sprintf("%s %s: %s", t.At.Format(time.RFC3339), t.State, t.Reason))
		label = ""
	}
	if j.LogStream != "" {
		row("log stream", j.LogGroup+" "+j.LogStream)
	}
	row("trace", "batchxray trace "+j.ID)
	return b.String()
}

// statesFrom says where the time in each state comes from.
func statesFrom(j *Job) string {
	if j.FromEvents {
		return "from Batch's job events (each state's start)"
	}
	return "from DescribeJobs and polling"
}

func attemptLine(a Attempt) string {
	var parts []string
	if a.ExitCode != nil {
		parts = append(parts, fmt.Sprintf("exit %d", *a.ExitCode))
	} else {
		parts = append(parts, "no exit code")
	}
	if !a.StartedAt.IsZero() && !a.StoppedAt.IsZero() {
		parts = append(parts, FormatDuration(a.StoppedAt.Sub(a.StartedAt)))
	}
	if a.Reason != "" {
		parts = append(parts, a.Reason)
	}
	if a.StatusReason != "" {
		parts = append(parts, Interrupted(a, a.StatusReason))
	}
	return strings.Join(parts, ", ")
}

// Interrupted puts the name of the attempt's interruption before Batch's
// reason, when it has one: "Spot interruption: Host EC2 (instance i-…)
// terminated.".
func Interrupted(a Attempt, reason string) string {
	if a.Interruption == "" {
		return reason
	}
	return a.Interruption + ": " + reason
}

func childLine(c FailedChild, st ui.Styles) string {
	s := st.Failed.Render(ui.GlyphFailed) + " " + c.ID
	if c.ExitCode != nil {
		s += fmt.Sprintf(" exit %d", *c.ExitCode)
	}
	if c.StatusReason != "" {
		s += ", " + c.StatusReason
	}
	return s
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// Report is the stable JSON form of a job for `--output json`: the Job
// with its lifecycle worked out.
type Report struct {
	*Job
	// QueueWaitSeconds is the time from creation to the first start.
	QueueWaitSeconds float64 `json:"queueWaitSeconds"`
	// RunTimeSeconds is the time every attempt ran.
	RunTimeSeconds float64 `json:"runTimeSeconds"`
	// Spans are the states one after the other, as far as they are known.
	Spans []StateSpan `json:"spans"`
	// SecondsInState is the time spent in each state.
	SecondsInState map[State]float64 `json:"secondsInState"`
	// StatesFrom names the source of Spans and SecondsInState: "events"
	// (Batch's recorded job events) or "DescribeJobs".
	StatesFrom string `json:"statesFrom"`
	// TraceCommand shows the job's trace.
	TraceCommand string `json:"traceCommand"`
}

// NewReport works out a job's report at now.
func NewReport(j *Job, now time.Time) Report {
	r := Report{
		Job:              j,
		QueueWaitSeconds: j.QueueWait(now).Seconds(),
		RunTimeSeconds:   j.RunTime(now).Seconds(),
		Spans:            j.StateSpans(),
		SecondsInState:   map[State]float64{},
		StatesFrom:       j.StatesFrom(),
		TraceCommand:     "batchxray trace " + j.ID,
	}
	if r.Spans == nil {
		r.Spans = []StateSpan{}
	}
	for s, d := range j.Durations(now) {
		r.SecondsInState[s] = d.Seconds()
	}
	return r
}
