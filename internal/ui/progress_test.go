package ui

import (
	"bytes"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestProgressPlainWithoutTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false, DefaultWidth)
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
	p := newProgress(&buf, true, DefaultWidth)
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

func TestSpinnerLineFitsTheWidth(t *testing.T) {
	steps := []string{"job queue q", "compute environment ce", "security group sg", "S3 bucket batchxray-cli-000000000000-us-east-1"}
	tests := []struct {
		width int
		want  string
	}{
		{200, "⠋ job queue q, compute environment ce, security group sg, S3 bucket batchxray-cli-000000000000-us-east-1"},
		{80, "⠋ job queue q, compute environment ce, security group sg +1 more"},
		{60, "⠋ job queue q, compute environment ce +2 more"},
		{40, "⠋ job queue q +3 more"},
		{20, "⠋ job queu… +3 more"},
		{10, "⠋ job qu…"},
	}
	for _, tt := range tests {
		got := spinnerLine("⠋", steps, tt.width)
		if got != tt.want {
			t.Errorf("width %d: %q, want %q", tt.width, got, tt.want)
		}
		if n := ansi.StringWidth(got); n > tt.width-1 {
			t.Errorf("width %d: the line takes %d cells", tt.width, n)
		}
	}
}
