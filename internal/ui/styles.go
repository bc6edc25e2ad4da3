package ui

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the semantic styles of every renderer. Colour is never the only
// signal: callers always write a glyph and a word too (✓ SUCCEEDED).
type Styles struct {
	OK      lipgloss.Style
	Failed  lipgloss.Style
	Warn    lipgloss.Style
	Running lipgloss.Style
	Muted   lipgloss.Style
	Accent  lipgloss.Style
	Bold    lipgloss.Style
}

// NewStyles returns the styles for a writer. With color false every style
// renders its text unchanged, so the output is plain and greppable. With color
// true the ANSI 256 profile is used whatever the environment says, so that
// rendered output is byte-exact in golden files.
func NewStyles(w io.Writer, color bool) Styles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return Styles{
		OK:      r.NewStyle().Foreground(lipgloss.Color("42")),
		Failed:  r.NewStyle().Foreground(lipgloss.Color("203")).Bold(true),
		Warn:    r.NewStyle().Foreground(lipgloss.Color("214")),
		Running: r.NewStyle().Foreground(lipgloss.Color("39")),
		Muted:   r.NewStyle().Foreground(lipgloss.Color("245")),
		Accent:  r.NewStyle().Foreground(lipgloss.Color("213")),
		Bold:    r.NewStyle().Bold(true),
	}
}

// Glyphs that carry meaning next to colour.
const (
	GlyphOK      = "✓"
	GlyphFailed  = "✗"
	GlyphWarn    = "!"
	GlyphRunning = "●"
	GlyphPending = "○"
)
