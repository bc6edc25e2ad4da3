package ui

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Progress reports steps that run concurrently: one line for each finished
// step and, on a terminal only, a spinner line below them naming the steps
// still in flight, redrawn in place. Off a terminal it writes plain lines
// and nothing else, so logs stay greppable.
type Progress struct {
	w     io.Writer
	tty   bool
	width int

	mu       sync.Mutex
	inflight []string
	frame    int
	drawn    bool
	stop     chan struct{}
	done     chan struct{}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewProgress returns a Progress on the streams' stderr, spinning only when
// it is a terminal, its line never wider than the terminal (a line that
// wrapped could not be redrawn in place).
func NewProgress(s *IOStreams) *Progress {
	return newProgress(s.ErrOut, s.IsStderrTTY(), s.TerminalWidth())
}

func newProgress(w io.Writer, tty bool, width int) *Progress {
	p := &Progress{w: w, tty: tty, width: width}
	if tty {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.spin()
	}
	return p
}

func (p *Progress) spin() {
	defer close(p.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.frame++
			p.redraw()
			p.mu.Unlock()
		}
	}
}

// redraw replaces the spinner line; the caller holds mu.
func (p *Progress) redraw() {
	if !p.tty {
		return
	}
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	if len(p.inflight) == 0 {
		return
	}
	fmt.Fprint(p.w, spinnerLine(spinnerFrames[p.frame%len(spinnerFrames)], p.inflight, p.width))
	p.drawn = true
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
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight = append(p.inflight, label)
	p.redraw()
}

// Done ends the step started with label and prints line for it.
func (p *Progress) Done(label, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.inflight, label); i >= 0 {
		p.inflight = slices.Delete(p.inflight, i, i+1)
	}
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	fmt.Fprintln(p.w, line)
	p.redraw()
}

// End ends the step started with label and prints nothing for it.
func (p *Progress) End(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.inflight, label); i >= 0 {
		p.inflight = slices.Delete(p.inflight, i, i+1)
	}
	p.redraw()
}

// Println prints a line above the spinner.
func (p *Progress) Println(line string) { p.Done("", line) }

// Close stops the spinner and clears its line.
func (p *Progress) Close() {
	if p.tty {
		close(p.stop)
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight = nil
	p.redraw()
}
