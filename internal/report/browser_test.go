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

// TestHTMLInChromium opens the report in a real headless Chromium: it loads
// with no console error and no network request, shows the job count and the
// slowest job's name, and a click on that job's timeline row draws its
// waterfall from the embedded data.
func TestHTMLInChromium(t *testing.T) {
	exe := chromium(t)
	in := workload()
	f := Compute(in, now, DefaultSlowest)
	page, err := HTML(in, f, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.WindowSize(1280, 1600))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, time.Minute)
	defer cancel()

	var (
		mu       sync.Mutex
		problems []string
		requests []string
	)
	record := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == "error" || ev.Type == "warning" || ev.Type == "assert" {
				problems = append(problems, fmt.Sprintf("console.%s called", ev.Type))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "uncaught exception: "+ev.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == "error" || ev.Entry.Level == "warning" {
				problems = append(problems, fmt.Sprintf("browser log %s: %s", ev.Entry.Level, ev.Entry.Text))
			}
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		case *network.EventLoadingFailed:
			problems = append(problems, "loading failed: "+ev.ErrorText)
		}
	}
	if err := chromedp.Listen(ctx, record); err != nil {
		t.Fatalf("start chromium: %v", err)
	}

	slow := f.Slowest[0]
	index := -1
	for i, j := range in.Jobs {
		if j.ID == slow.ID {
			index = i
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+file), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("open the page: %v", err)
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
	png := filepath.Join(dir, "report.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", png, len(shot))

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page reported problems:\n%s", strings.Join(problems, "\n"))
	}
	for _, u := range requests {
		if u != "file://"+file {
			t.Errorf("the page requested %s: it must fetch nothing", u)
		}
	}
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
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return v
}
