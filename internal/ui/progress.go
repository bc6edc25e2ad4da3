package ui

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Progress reports steps that run concurrently: one line for each finished
// step and, on a terminal only, a spinner line below them naming the steps
// still in flight, redrawn in place. Off a terminal it writes plain lines
// and nothing else, so logs stay greppable.
type Progress struct {
	w   io.Writer
	tty bool

	mu       sync.Mutex
	inflight []string
	frame    int
	drawn    bool
	stop     chan struct{}
	done     chan struct{}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewProgress returns a Progress writing to w; tty says whether w is a
// terminal.
func NewProgress(w io.Writer, tty bool) *Progress {
	p := &Progress{w: w, tty: tty}
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
	fmt.Fprintf(p.w, "%s %s", spinnerFrames[p.frame%len(spinnerFrames)], strings.Join(p.inflight, ", "))
	p.drawn = true
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
