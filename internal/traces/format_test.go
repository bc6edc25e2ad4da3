package traces

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/jobs"
)

func TestTickStep(t *testing.T) {
	tests := []struct {
		span float64
		n    int
		want float64
	}{
		{0.004, 4, 0.001},
		{0.05, 5, 0.01},
		{0.3, 4, 0.1},
		{0.9, 4, 0.5},
		{7.2, 5, 2},
		{48, 4, 15},
		{66, 5, 15},
		{600, 6, 120},
		{3600, 6, 600},
		{5 * 3600, 6, 3600},
		{3 * 86400, 2, 2 * 86400},
	}
	for _, tt := range tests {
		if got := tickStep(tt.span, tt.n); got != tt.want {
			t.Errorf("tickStep(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
		}
	}
}

func TestTickLabel(t *testing.T) {
	tests := []struct {
		v, step, span float64
		want          string
	}{
		{0, 0.01, 0.05, "0"},
		{0.02, 0.01, 0.05, "20ms"},
		{0.5, 0.1, 0.9, "500ms"},
		{0.5, 0.5, 10, "0.5s"},
		{1.5, 0.5, 10, "1.5s"},
		{2, 0.5, 10, "2s"},
		{1.25, 0.05, 2, "1.25s"},
		{42, 2, 48, "42s"},
		{90, 15, 120, "1m30s"},
		{120, 60, 600, "2m"},
		{5400, 900, 7200, "1h30m"},
		{7200, 3600, 9000, "2h"},
	}
	for _, tt := range tests {
		if got := tickLabel(tt.v, tt.step, tt.span); got != tt.want {
			t.Errorf("tickLabel(%v, %v, %v) = %q, want %q", tt.v, tt.step, tt.span, got, tt.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		s    float64
		want string
	}{
		{0, "0ms"},
		{0.0004, "0.4ms"},
		{0.0042, "4.2ms"},
		{0.42, "420ms"},
		{0.9996, "1.00s"},
		{4.217, "4.22s"},
		{42.17, "42.2s"},
		{62, "1m02s"},
		{3725, "1h02m"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.s); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestRulerScales checks that the ticks follow the width: the same trace
// gets more, finer ticks on a wider terminal.
func TestRulerScales(t *testing.T) {
	job := jobs.Job{ID: "j", Status: jobs.Succeeded, CreatedAt: at(0), StartedAt: at(0), StoppedAt: at(10),
		Attempts: []jobs.Attempt{{StartedAt: at(0), StoppedAt: at(10), ExitCode: intp(0)}}}
	tests := []struct {
		width int
		want  []string
	}{
		{60, []string{"0", "5s", "10s"}},
		{100, []string{"0", "2s", "4s", "6s", "8s", "10s"}},
		{200, []string{"0", "1s", "2s", "3s", "4s", "5s", "6s", "7s", "8s", "9s", "10s"}},
	}
	for _, tt := range tests {
		out := Render(View{Job: job}, Options{Width: tt.width, Now: at(20)})
		lines := strings.Split(out, "\n")
		var labels []string
		for i, l := range lines {
			if i+1 < len(lines) && strings.Contains(lines[i+1], "┬") {
				labels = strings.Fields(l)
				break
			}
		}
		if diff := cmp.Diff(tt.want, labels); diff != "" {
			t.Errorf("width %d: tick labels (-want +got):\n%s\n%s", tt.width, diff, out)
		}
	}
}

func TestWidthAgreesWithANSI(t *testing.T) {
	for _, s := range []string{"", "plain", "├─ └─ │", "█▉▊▋▌▍▎▏▐▕░▒◆╌▸┬┄─", "✓ ✗ ● ○ ⧗ ↳ · × …", "処理データ", "e\u0301", "\x1b[1mbold\x1b[0m", "tab\t"} {
		if got, want := width(s), ansi.StringWidth(s); got != want {
			t.Errorf("width(%q) = %d, want %d", s, got, want)
		}
	}
}
