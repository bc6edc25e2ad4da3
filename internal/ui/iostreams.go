package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// IOStreams are the standard streams of a command, with what is known about
// each of them: whether it is a terminal, and whether colour may be used.
// Commands never touch os.Stdout directly, so tests can swap the streams and
// flip the terminal switches.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	noColor               bool
	// dumb is a terminal that cannot move the cursor (TERM=dumb): no
	// colour, and no line redrawn in place.
	dumb  bool
	width int
}

// System returns the process's real streams, with what the environment
// says about them (see FromEnv).
func System() *IOStreams {
	s := &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		inTTY:  isTerminal(os.Stdin),
		outTTY: isTerminal(os.Stdout),
		errTTY: isTerminal(os.Stderr),
	}
	s.FromEnv(os.Getenv)
	if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 {
		s.width = w
	} else if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 0 {
		s.width = w
	}
	return s
}

// FromEnv takes what the environment says about the terminal: NO_COLOR
// set to anything but "" turns colour off, as https://no-color.org asks,
// and TERM=dumb turns off colour and the lines redrawn in place (spinners,
// live lines), which such a terminal cannot draw.
func (s *IOStreams) FromEnv(getenv func(string) string) {
	if getenv("NO_COLOR") != "" {
		s.noColor = true
	}
	if getenv("TERM") == "dumb" {
		s.dumb = true
	}
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// Test returns streams backed by buffers, none of them a terminal: the
// buffers are returned for the test to fill and read.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// IsStdinTTY reports whether standard input is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// SetStdinTTY overrides the detection, for tests.
func (s *IOStreams) SetStdinTTY(v bool) { s.inTTY = v }

// SetStdoutTTY overrides the detection, for tests.
func (s *IOStreams) SetStdoutTTY(v bool) { s.outTTY = v }

// SetStderrTTY overrides the detection, for tests.
func (s *IOStreams) SetStderrTTY(v bool) { s.errTTY = v }

// SetNoColor turns colour off whatever the terminals say (--no-color).
func (s *IOStreams) SetNoColor(v bool) { s.noColor = v }

// SetWidth overrides the terminal width, for tests.
func (s *IOStreams) SetWidth(w int) { s.width = w }

// ColorEnabled reports whether colour may be written to standard output.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.noColor && !s.dumb }

// ColorEnabledStderr reports whether colour may be written to standard error.
func (s *IOStreams) ColorEnabledStderr() bool { return s.errTTY && !s.noColor && !s.dumb }

// CanRedrawStderr reports whether a line may be redrawn in place on
// standard error (a spinner, a live line): it must be a terminal that can
// move the cursor.
func (s *IOStreams) CanRedrawStderr() bool { return s.errTTY && !s.dumb }

// CanPrompt reports whether the user can be asked a question: both standard
// input and standard error must be terminals.
func (s *IOStreams) CanPrompt() bool { return s.inTTY && s.errTTY }

// TerminalWidth is the width to draw for: the terminal's, or 80 when the
// output is not a terminal (so piped output stays stable).
func (s *IOStreams) TerminalWidth() int {
	if s.width > 0 {
		return s.width
	}
	return DefaultWidth
}

// DefaultWidth is the drawing width when no terminal says otherwise.
const DefaultWidth = 80

// Confirm asks question on standard error and reads the answer from
// standard input: only "y" or "yes" (any case) is a yes. The caller checks
// CanPrompt first.
func (s *IOStreams) Confirm(question string) bool {
	fmt.Fprintf(s.ErrOut, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(s.In).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}
