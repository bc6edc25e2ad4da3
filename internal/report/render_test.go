package report

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/batchxray/batchxray/internal/golden"
)

func TestRenderGolden(t *testing.T) {
	f := Compute(workload(), now, DefaultSlowest)
	for _, tc := range []struct {
		name  string
		width int
		color bool
	}{
		{"report-100.golden", 100, false},
		{"report-72.golden", 72, false},
		{"report-60.golden", 60, false},
		{"report-color.golden", 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Render(f, Options{Width: tc.width, Color: tc.color})
			for i, l := range strings.Split(got, "\n") {
				if w := ansi.StringWidth(l); w > tc.width && !strings.Contains(l, "batchxray trace") {
					t.Errorf("line %d is %d cells wide, over %d: %q", i+1, w, tc.width, l)
				}
			}
			if !tc.color && strings.Contains(got, "\x1b[") {
				t.Error("plain output has escape sequences")
			}
			golden.AssertString(t, tc.name, got)
		})
	}
}
