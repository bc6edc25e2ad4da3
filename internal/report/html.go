package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/traces"
)

//go:embed report.html.tmpl
var pageSource string

// page is parsed on first use, not at init: every batchxray command links
// this package, and few write HTML.
var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"seconds": traces.FormatSeconds,
		"plural":  plural,
		"pct":     func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
		"time":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
	}).Parse(pageSource))
})

// pageData is what the template draws. Data is embedded as JSON for the
// script that draws a job's waterfall.
type pageData struct {
	Figures  Figures
	Now      time.Time
	Timeline timeline
	Data     pageJSON
}

// pageJSON is the embedded data: every job and its traces' spans, times
// in seconds from the timeline's start.
type pageJSON struct {
	Start float64   `json:"start"`
	Jobs  []jsonJob `json:"jobs"`
}

type jsonJob struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Status   string    `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Attempts []stretch `json:"attempts"`
	Spans    [][]any   `json:"spans"` // [name, start, end, depth, flags]
	Traces   []string  `json:"traces"`
}

// stretch is one attempt: queued from Queued to Start, running to Stop
// (seconds from the timeline's start; -1 when not yet).
type stretch struct {
	Queued float64 `json:"q"`
	Start  float64 `json:"s"`
	Stop   float64 `json:"e"`
}

// timeline is the SVG drawing of every job, one row a job.
type timeline struct {
	// Width is the drawing's width in its own units, stretched to the
	// page; Height is in pixels, Row pixels a job whatever their number:
	// past the page's height the timeline scrolls rather than squeeze.
	Width, Height, Row float64
	Span               float64
	Rows               []timelineRow
	Ticks              []tick
}

type timelineRow struct {
	Index int
	Y     float64
	// Label names the row's job (an array child with its index), Title
	// adds its ID and status.
	Label   string
	Title   string
	Queued  []rect
	Running []rect
	Failed  []rect
}

type rect struct{ X, W float64 }

// tick is a time on the axis: X in the drawing's units, Percent across it.
type tick struct {
	X, Percent float64
	Label      string
}

// timelineRow is the height of a job's row in pixels: readable, and big
// enough to click, at any number of jobs.
const timelineRowHeight = 16

const timelineWidth = 1000

// HTML renders the report as one self-contained page: styles, script and
// data inline, nothing fetched. The tables read without the script.
func HTML(in Input, f Figures, now time.Time) ([]byte, error) {
	d := pageData{Figures: f, Now: now}
	d.Timeline, d.Data = layout(in, now)
	var b bytes.Buffer
	if err := page().Execute(&b, d); err != nil {
		return nil, fmt.Errorf("render the HTML report: %w", err)
	}
	return b.Bytes(), nil
}

func layout(in Input, now time.Time) (timeline, pageJSON) {
	var start, end time.Time
	for i, j := range in.Jobs {
		if i == 0 || j.CreatedAt.Before(start) {
			start = j.CreatedAt
		}
		end = maxTime(end, jobEnd(j, now))
	}
	span := max(end.Sub(start).Seconds(), 0.001)
	rel := func(t time.Time) float64 {
		if t.IsZero() {
			return -1
		}
		return t.Sub(start).Seconds()
	}
	x := func(s float64) float64 { return s / span * timelineWidth }
	row := float64(timelineRowHeight)
	tl := timeline{Width: timelineWidth, Row: row, Height: row * float64(max(len(in.Jobs), 1)), Span: span}
	for _, t := range ticks(span) {
		tl.Ticks = append(tl.Ticks, tick{X: x(t), Percent: round3(100 * t / span), Label: traces.FormatSeconds(t)})
	}
	byJob := map[string][]Trace{}
	for _, t := range in.Traces {
		byJob[t.JobID] = append(byJob[t.JobID], t)
	}
	data := pageJSON{Start: float64(start.UnixNano()) / 1e9}
	for i, j := range in.Jobs {
		r := timelineRow{Index: i, Y: float64(i) * row, Label: j.Name, Title: fmt.Sprintf("%s (%s) %s", j.Name, j.ID, j.Status)}
		if j.ArrayIndex != nil {
			r.Label = fmt.Sprintf("%s [%d]", j.Name, *j.ArrayIndex)
		}
		jj := jsonJob{ID: j.ID, Name: j.Name, Status: j.Status, Reason: j.Reason, Attempts: []stretch{}, Spans: [][]any{}, Traces: []string{}}
		queued := j.CreatedAt
		for _, a := range j.Attempts {
			stop := a.Stop
			if stop.IsZero() {
				stop = now
			}
			st := stretch{Queued: rel(queued), Start: rel(a.Start), Stop: rel(a.Stop)}
			jj.Attempts = append(jj.Attempts, st)
			if !a.Start.IsZero() {
				r.Queued = append(r.Queued, rect{x(rel(queued)), x(a.Start.Sub(queued).Seconds())})
				run := rect{x(rel(a.Start)), max(x(stop.Sub(a.Start).Seconds()), 0.5)}
				if a.ExitCode != nil && *a.ExitCode == 0 || a.Stop.IsZero() {
					r.Running = append(r.Running, run)
				} else {
					r.Failed = append(r.Failed, run)
				}
			}
			queued = stop
		}
		if n := len(j.Attempts); !j.Terminal() && (n == 0 || !j.Attempts[n-1].Stop.IsZero()) {
			// Still waiting for its (next) attempt.
			r.Queued = append(r.Queued, rect{x(rel(queued)), x(now.Sub(queued).Seconds())})
		}
		for _, t := range byJob[j.ID] {
			jj.Traces = append(jj.Traces, t.ID)
			for _, s := range t.Spans {
				flags := ""
				if s.Fault {
					flags += "F"
				}
				if s.Error {
					flags += "E"
				}
				if s.Throttle {
					flags += "T"
				}
				end := -1.0
				if s.End > 0 {
					end = round3(s.End - data.Start)
				}
				jj.Spans = append(jj.Spans, []any{s.Name, round3(s.Start - data.Start), end, s.Depth, flags})
			}
		}
		tl.Rows = append(tl.Rows, r)
		data.Jobs = append(data.Jobs, jj)
	}
	return tl, data
}

func round3(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// ticks are up to about eight round times across span seconds.
func ticks(span float64) []float64 {
	step := niceCeil(span) / histogramBins
	var out []float64
	for t := 0.0; t <= span+1e-9; t += step {
		out = append(out, t)
	}
	return out
}
