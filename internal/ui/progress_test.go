package ui

import (
	"bytes"
	"testing"
)

func TestProgressPlainWithoutTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, false)
	p.Start("a")
	p.Start("b")
	p.Done("b", "b done")
	p.Done("a", "a done")
	p.Close()
	if got, want := buf.String(), "b done\na done\n"; got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestProgressSpinnerOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, true)
	p.Start("compute environment")
	p.Done("compute environment", "✓ compute environment")
	p.Close()
	want := "⠋ compute environment\r\x1b[K✓ compute environment\n"
	// The spinner may have redrawn in between; the line for the finished
	// step must follow a cleared spinner line, and nothing may follow it.
	got := buf.String()
	if !bytes.HasSuffix([]byte(got), []byte("\r\x1b[K✓ compute environment\n")) || !bytes.HasPrefix([]byte(got), []byte(want[:len("⠋ compute environment")])) {
		t.Errorf("output = %q, want the spinner line cleared before %q", got, "✓ compute environment")
	}
}
