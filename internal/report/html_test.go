package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHTMLIsSelfContained(t *testing.T) {
	in := workload()
	page, err := HTML(in, Compute(in, now, DefaultSlowest), now)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, bad := range []string{"http://", "https://", "<link", "@import", "url(", " src="} {
		if strings.Contains(s, bad) {
			t.Errorf("the page has %q: it must fetch nothing", bad)
		}
	}
	for _, want := range []string{"11 jobs", "etl-2", `id="report-data"`, "Essential container in task exited (exit code 2)"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(s, `<g class="job"`); n != len(in.Jobs) {
		t.Errorf("timeline has %d rows, want %d", n, len(in.Jobs))
	}
	if err := os.WriteFile(filepath.Join(t.TempDir(), "report.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
}
