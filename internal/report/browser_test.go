package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium. In CI (.ci/run installs it) a missing
// browser fails the test; locally it skips it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI must run the browser test (.ci/run installs it)")
	}
	t.Skip("chromium is not installed: skipping the browser test (apt-get install chromium)")
	return ""
}

// browser is one headless Chromium for the browser tests, recording what
// a page reports: console errors and warnings, exceptions, failed loads,
// and every request.
type browser struct {
	ctx      context.Context
	dir      string
	mu       sync.Mutex
	problems []string
	requests []string
}

func newBrowser(t *testing.T) *browser {
	exe := chromium(t)
	b := &browser{dir: t.TempDir()}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(b.dir, "profile")), chromedp.WindowSize(1280, 1600))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b.ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	record := func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" || ev.Type == "warning" || ev.Type == "assert" {
				b.problems = append(b.problems, fmt.Sprintf("console.%s called", ev.Type))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "uncaught exception: "+ev.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == "error" || ev.Entry.Level == "warning" {
				b.problems = append(b.problems, fmt.Sprintf("browser log %s: %s", ev.Entry.Level, ev.Entry.Text))
			}
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *network.EventLoadingFailed:
			b.problems = append(b.problems, "loading failed: "+ev.ErrorText)
		}
	}
	if err := chromedp.Listen(b.ctx, record); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// open writes the page to a file and loads it.
func (b *browser) open(t *testing.T, name string, page []byte) string {
	t.Helper()
	file := filepath.Join(b.dir, name)
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.problems, b.requests = nil, nil
	b.mu.Unlock()
	if err := chromedp.Do(b.ctx, chromedp.Navigate("file://"+file), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	return file
}

// check fails the test for any problem the page reported and any request
// but the page's own file.
func (b *browser) check(t *testing.T, file string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(b.problems, "\n"))
	}
	for _, u := range b.requests {
		if u != "file://"+file {
			t.Errorf("the page requested %s: it must fetch nothing", u)
		}
	}
}

// TestHTMLInChromium opens reports in a real headless Chromium: each loads
// with no console error and no network request. The workload's shows the
// job count and the slowest job's name, and a click on that job's timeline
// row draws its waterfall from the embedded data. A 500-job report labels
// every row, keeps each row readable and scrolls instead of squeezing.
func TestHTMLInChromium(t *testing.T) {
	b := newBrowser(t)
	t.Run("workload", func(t *testing.T) {
		in := workload()
		f := Compute(in, now, DefaultSlowest)
		page, err := HTML(in, f, now)
		if err != nil {
			t.Fatal(err)
		}
		file := b.open(t, "report.html", page)
		ctx := b.ctx
		slow := f.Slowest[0]
		index := -1
		for i, j := range in.Jobs {
			if j.ID == slow.ID {
				index = i
			}
		}
		count := run(t, ctx, chromedp.Text("#job-count"))
		body := run(t, ctx, chromedp.Text("body"))
		if err := chromedp.Do(ctx,
			chromedp.Click(fmt.Sprintf(`.timeline g.job[data-i="%d"] rect.bg`, index)),
			chromedp.WaitVisible("#waterfall .span-row"),
		); err != nil {
			t.Fatalf("click the slowest job: %v", err)
		}
		waterfall := run(t, ctx, chromedp.Text("#waterfall"))
		rows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#waterfall .span-row").length`))
		shot := run(t, ctx, chromedp.FullScreenshot(100))
		png := filepath.Join(b.dir, "report.png")
		if err := os.WriteFile(png, shot, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", png, len(shot))
		b.check(t, file)
		if want := plural(f.Jobs, "job"); count != want {
			t.Errorf("job count %q, want %q", count, want)
		}
		if !strings.Contains(body, slow.Name) {
			t.Errorf("the page does not name the slowest job %s", slow.Name)
		}
		spans := 0
		for _, tr := range in.Traces {
			if tr.JobID == slow.ID {
				spans += len(tr.Spans)
			}
		}
		if !strings.Contains(waterfall, "Waterfall of "+slow.Name) || rows != spans {
			t.Errorf("after the click the waterfall has %d rows (want %d) and says:\n%s", rows, spans, waterfall)
		}
	})
	t.Run("500 jobs", func(t *testing.T) {
		const jobs, minRow = 500, 14
		in := manyJobs(jobs)
		page, err := HTML(in, Compute(in, now, DefaultSlowest), now)
		if err != nil {
			t.Fatal(err)
		}
		file := b.open(t, "report-500.html", page)
		ctx := b.ctx
		type layout struct {
			Labels, Rows                 int
			Empty                        int
			Label0, Label499             string
			MinLabelHeight, MinRowHeight float64
			ScrollHeight, ClientHeight   float64
			AlignedOff                   float64
		}
		got := run(t, ctx, chromedp.Evaluate[layout](`(function () {
			var labels = document.querySelectorAll(".tl-label"), rows = document.querySelectorAll(".timeline g.job rect.bg");
			var out = {Labels: labels.length, Rows: rows.length, Empty: 0, MinLabelHeight: Infinity, MinRowHeight: Infinity, AlignedOff: 0};
			labels.forEach(function (l, i) {
				if (l.textContent.trim() === "") out.Empty++;
				var lr = l.getBoundingClientRect(), rr = rows[i].getBoundingClientRect();
				out.MinLabelHeight = Math.min(out.MinLabelHeight, lr.height);
				out.MinRowHeight = Math.min(out.MinRowHeight, rr.height);
				out.AlignedOff = Math.max(out.AlignedOff, Math.abs(lr.top - rr.top));
			});
			out.Label0 = labels[0].textContent; out.Label499 = labels[labels.length - 1].textContent;
			var tl = document.querySelector(".tl");
			out.ScrollHeight = tl.scrollHeight; out.ClientHeight = tl.clientHeight;
			return out;
		})()`))
		b.check(t, file)
		if got.Labels != jobs || got.Rows != jobs || got.Empty != 0 {
			t.Errorf("%d labels (%d empty) for %d rows, want %d labelled rows", got.Labels, got.Empty, got.Rows, jobs)
		}
		if got.Label0 != "etl-0" || got.Label499 != "fan [399]" {
			t.Errorf("labels %q … %q, want etl-0 … fan [399]", got.Label0, got.Label499)
		}
		if got.MinRowHeight < minRow || got.MinLabelHeight < minRow {
			t.Errorf("rows %.1f px and labels %.1f px high at the least, want at least %d", got.MinRowHeight, got.MinLabelHeight, minRow)
		}
		if got.AlignedOff > 1 {
			t.Errorf("a label is %.1f px off its row", got.AlignedOff)
		}
		if got.ScrollHeight <= got.ClientHeight {
			t.Errorf("the timeline is %.0f px in a %.0f px box: it should scroll", got.ScrollHeight, got.ClientHeight)
		}
	})
}

// manyJobs is a workload of n jobs: 100 plain ones, then the children of
// one array, each run for a while after a queue wait, with a trace.
func manyJobs(n int) Input {
	in := Input{Arrays: 1}
	for i := range n {
		j := Job{ID: fmt.Sprintf("job-%d", i), Name: fmt.Sprintf("etl-%d", i), Status: "SUCCEEDED", CreatedAt: at(float64(i))}
		if i >= 100 {
			idx := i - 100
			j.ID, j.Name, j.ArrayJobID, j.ArrayIndex = fmt.Sprintf("arr:%d", idx), "fan", "arr", &idx
		}
		start, stop := at(float64(i)+5), at(float64(i)+5+float64(i%17))
		j.StoppedAt = stop
		j.Attempts = []Attempt{{Start: start, Stop: stop, ExitCode: code(0)}}
		in.Jobs = append(in.Jobs, j)
		s := epoch(float64(i) + 5)
		in.Traces = append(in.Traces, Trace{ID: fmt.Sprintf("1-6927b1c0-%024d", i), JobID: j.ID, Spans: []Span{
			{Name: "BatchJob", Start: s, End: s + float64(i%17), Segment: true},
			{Name: "S3", Start: s + 0.1, End: s + 0.5, Depth: 1},
		}})
	}
	return in
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return v
}
