package ui

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Progress reports steps that run concurrently: one line for each finished
// step and, on a terminal only, a spinner line below them naming the steps
// still in flight, redrawn in place by the Live engine. Off a terminal it
// writes plain lines and nothing else, so logs stay greppable.
type Progress struct {
	live  *Live
	width int
	// inflight is read by the draw function and changed only inside
	// live.Update, under the engine's lock.
	inflight []string
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewProgress returns a Progress on the streams' stderr, spinning only when
// it is a terminal that can redraw a line (CanRedrawStderr), its line never wider than the terminal (a line that
// wrapped could not be redrawn in place).
func NewProgress(s *IOStreams) *Progress {
	return newProgress(s.ErrOut, s.CanRedrawStderr(), s.TerminalWidth())
}

func newProgress(w io.Writer, tty bool, width int) *Progress {
	p := &Progress{width: width}
	p.live = NewLive(w, tty, 100*time.Millisecond, p.draw)
	return p
}

// draw is the spinner line for a tick; the engine holds its lock.
func (p *Progress) draw(frame int) string {
	if len(p.inflight) == 0 {
		return ""
	}
	return spinnerLine(spinnerFrames[frame%len(spinnerFrames)], p.inflight, p.width)
}

// spinnerLine names as many steps as fit in width-1 cells (the last cell
// stays free, so the cursor never wraps), and counts the rest.
func spinnerLine(frame string, steps []string, width int) string {
	line := frame
	for i, s := range steps {
		sep := " "
		if i > 0 {
			sep = ", "
		}
		more := ""
		if rest := len(steps) - i - 1; rest > 0 {
			more = fmt.Sprintf(" +%d more", rest)
		}
		if ansi.StringWidth(line+sep+s+more) <= width-1 {
			line += sep + s
			continue
		}
		if i > 0 {
			// The count of the rest fitted with the steps before this one.
			return line + fmt.Sprintf(" +%d more", len(steps)-i)
		}
		if room := width - 1 - ansi.StringWidth(more); room >= ansi.StringWidth(line+sep)+4 {
			return ansi.Truncate(line+sep+s, room, "…") + more
		}
		return ansi.Truncate(line+sep+s, width-1, "…")
	}
	return line
}

// Start names a step in flight.
func (p *Progress) Start(label string) {
	p.live.Update(func() { p.inflight = append(p.inflight, label) })
}

// Done ends the step started with label and prints line for it.
func (p *Progress) Done(label, line string) {
	p.live.Update(func() { p.remove(label) }, line)
}

// End ends the step started with label and prints nothing for it.
func (p *Progress) End(label string) {
	p.live.Update(func() { p.remove(label) })
}

// remove drops label from the steps in flight; the engine holds its lock.
func (p *Progress) remove(label string) {
	if i := slices.Index(p.inflight, label); i >= 0 {
		p.inflight = slices.Delete(p.inflight, i, i+1)
	}
}

// Println prints a line above the spinner.
func (p *Progress) Println(line string) { p.live.Println(line) }

// Close stops the spinner and clears its line.
func (p *Progress) Close() { p.live.Close() }
