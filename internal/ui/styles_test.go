package ui

import (
	"bytes"
	"strings"
	"testing"
)

func TestStylesPlainWithoutColor(t *testing.T) {
	s := NewStyles(&bytes.Buffer{}, false)
	if got := s.Failed.Render("FAILED"); got != "FAILED" {
		t.Errorf("Failed.Render without colour = %q, want plain text", got)
	}
}

func TestStylesColorIsANSI(t *testing.T) {
	s := NewStyles(&bytes.Buffer{}, true)
	got := s.OK.Render("SUCCEEDED")
	if !strings.Contains(got, "\x1b[") || !strings.Contains(got, "SUCCEEDED") {
		t.Errorf("OK.Render with colour = %q, want an ANSI sequence around the text", got)
	}
}

func TestColorDecision(t *testing.T) {
	tests := []struct {
		name            string
		tty, noColor    bool
		wantOut, wantEr bool
	}{
		{"terminal", true, false, true, true},
		{"terminal with NO_COLOR", true, true, false, false},
		{"pipe", false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetStdoutTTY(tt.tty)
			s.SetStderrTTY(tt.tty)
			s.SetNoColor(tt.noColor)
			if got := s.ColorEnabled(); got != tt.wantOut {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.wantOut)
			}
			if got := s.ColorEnabledStderr(); got != tt.wantEr {
				t.Errorf("ColorEnabledStderr() = %v, want %v", got, tt.wantEr)
			}
		})
	}
}

func TestTerminalWidthDefault(t *testing.T) {
	s, _, _, _ := Test()
	if got := s.TerminalWidth(); got != DefaultWidth {
		t.Errorf("TerminalWidth() = %d, want %d", got, DefaultWidth)
	}
	s.SetWidth(160)
	if got := s.TerminalWidth(); got != 160 {
		t.Errorf("TerminalWidth() after SetWidth(160) = %d", got)
	}
}

// TestFromEnv: NO_COLOR turns colour off only when set to something
// (no-color.org: "when present and not an empty string"); TERM=dumb turns
// colour and redrawing off, on a terminal that is one.
func TestFromEnv(t *testing.T) {
	tests := []struct {
		name              string
		env               map[string]string
		wantColor, redraw bool
	}{
		{"nothing set", map[string]string{"TERM": "xterm-256color"}, true, true},
		{"NO_COLOR=1", map[string]string{"NO_COLOR": "1"}, false, true},
		{"NO_COLOR empty", map[string]string{"NO_COLOR": ""}, true, true},
		{"TERM=dumb", map[string]string{"TERM": "dumb"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, _ := Test()
			s.SetStdoutTTY(true)
			s.SetStderrTTY(true)
			s.FromEnv(func(k string) string { return tt.env[k] })
			if got := s.ColorEnabled(); got != tt.wantColor {
				t.Errorf("ColorEnabled() = %v, want %v", got, tt.wantColor)
			}
			if got := s.ColorEnabledStderr(); got != tt.wantColor {
				t.Errorf("ColorEnabledStderr() = %v, want %v", got, tt.wantColor)
			}
			if got := s.CanRedrawStderr(); got != tt.redraw {
				t.Errorf("CanRedrawStderr() = %v, want %v", got, tt.redraw)
			}
		})
	}
}

// TestProgressOnDumbTerminal: NewProgress on a dumb terminal writes plain
// lines, no spinner.
func TestProgressOnDumbTerminal(t *testing.T) {
	s, _, _, errOut := Test()
	s.SetStderrTTY(true)
	s.FromEnv(func(k string) string { return map[string]string{"TERM": "dumb"}[k] })
	p := NewProgress(s)
	p.Start("a")
	p.Done("a", "a done")
	p.Close()
	if got, want := errOut.String(), "a done\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}
