package ui

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// Live is the one live-redraw engine: on a terminal it keeps one line at
// the bottom of the stream, drawn by a function and redrawn in place every
// tick and after every change, with finished lines printed above it. Off a
// terminal it draws nothing and only passes the printed lines through, so
// logs stay greppable. Progress and the job followers are built on it.
type Live struct {
	w   io.Writer
	tty bool
	// draw returns the line for the given tick count; "" draws nothing.
	// It runs with mu held, so the state it reads is changed in Update.
	draw func(frame int) string

	mu     sync.Mutex
	frame  int
	drawn  bool
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// NewLive returns a Live on w that redraws every interval while tty is
// true. The line draw returns must fit the terminal's width less one cell,
// or it wraps and cannot be redrawn in place.
func NewLive(w io.Writer, tty bool, every time.Duration, draw func(frame int) string) *Live {
	l := &Live{w: w, tty: tty, draw: draw}
	if tty {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.tick(time.NewTicker(every))
	}
	return l
}

// TTY reports whether the line is drawn at all.
func (l *Live) TTY() bool { return l.tty }

func (l *Live) tick(t *time.Ticker) {
	defer close(l.done)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.frame++
			l.redraw()
			l.mu.Unlock()
		}
	}
}

// redraw replaces the line; the caller holds mu.
func (l *Live) redraw() {
	if !l.tty {
		return
	}
	l.clear()
	if l.closed {
		return
	}
	if s := l.draw(l.frame); s != "" {
		fmt.Fprint(l.w, s)
		l.drawn = true
	}
}

// clear erases the drawn line; the caller holds mu.
func (l *Live) clear() {
	if l.drawn {
		fmt.Fprint(l.w, clearLine)
		l.drawn = false
	}
}

// Update runs change (when not nil) under the engine's lock, so the draw
// function sees the state whole, prints lines above the live line, and
// redraws it.
func (l *Live) Update(change func(), lines ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if change != nil {
		change()
	}
	if len(lines) > 0 {
		l.clear()
		for _, s := range lines {
			fmt.Fprintln(l.w, s)
		}
	}
	l.redraw()
}

// Println prints lines above the live line.
func (l *Live) Println(lines ...string) { l.Update(nil, lines...) }

// Close stops the redraws and clears the line. Lines printed after Close
// still pass through; the live line is not drawn again.
func (l *Live) Close() {
	if l.tty {
		l.mu.Lock()
		closed := l.closed
		l.closed = true
		l.mu.Unlock()
		if !closed {
			close(l.stop)
			<-l.done
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clear()
}
