package traces

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
)

// Output is what `batchxray trace --output json` prints: stable structs,
// with the X-Ray documents as objects rather than the escaped strings
// BatchGetTraces returns. Times are RFC 3339; durations are seconds.
type Output struct {
	Job jobs.Job `json:"job"`
	// Lifecycle has one track per attempt.
	Lifecycle []Track `json:"lifecycle"`
	// AttemptTraces says, for each attempt that started, what the traces hold
	// of it: its complete segment, the in-progress one of an attempt that
	// still runs, or of one killed (with Batch's reason), or nothing.
	// Empty for an array parent: see its children.
	AttemptTraces []AttemptTrace `json:"attemptTraces"`
	// Logs are the last lines of each failed attempt's output, as trace
	// draws them under the attempt (--log-lines); empty for an array
	// parent and with --log-lines 0.
	Logs []AttemptLog `json:"logs"`
	// Summary counts the spans of all traces (of all children for an array
	// parent).
	Summary Summary `json:"summary"`
	// Traces are the job's own traces; empty for an array parent, whose
	// traces are under Children.
	Traces []TraceOutput `json:"traces"`
	// Children are an array parent's children, slowest first.
	Children []ChildOutput `json:"children,omitempty"`
}

// TraceOutput is one trace and its documents.
type TraceOutput struct {
	ID string `json:"id"`
	// DurationSeconds runs from the earliest start to the latest end of its
	// documents.
	DurationSeconds float64    `json:"durationSeconds"`
	Documents       []Document `json:"documents"`
}

// ChildOutput is one child of an array parent.
type ChildOutput struct {
	Index  int        `json:"index"`
	JobID  string     `json:"jobId"`
	Status jobs.State `json:"status"`
	// DurationSeconds is the run time: from start to stop, or to the time
	// of the output while it runs; zero if it never started.
	DurationSeconds float64        `json:"durationSeconds"`
	AttemptTraces   []AttemptTrace `json:"attemptTraces"`
	Summary         Summary        `json:"summary"`
	Traces          []TraceOutput  `json:"traces"`
}

// NewOutput builds the JSON form of a view at the time now.
func NewOutput(v View, now time.Time) Output {
	out := Output{
		Job:           v.Job,
		Lifecycle:     Lifecycle(v.Job, now),
		AttemptTraces: Attempts(v.Job, v.Traces),
		Logs:          v.Logs,
		Traces:        traceOutputs(v.Traces),
	}
	if out.Logs == nil {
		out.Logs = []AttemptLog{}
	}
	if out.Lifecycle == nil {
		out.Lifecycle = []Track{}
	}
	if v.Job.Array != nil {
		out.AttemptTraces = nil // the children's, below
	}
	out.AttemptTraces = nonNil(out.AttemptTraces)
	all := v.Traces
	for _, c := range SortChildren(v.Children, now) {
		out.Children = append(out.Children, ChildOutput{
			Index:           c.Index(),
			JobID:           c.Job.ID,
			Status:          c.Job.Status,
			DurationSeconds: childRunTime(c.Job, now).Seconds(),
			AttemptTraces:   nonNil(Attempts(c.Job, c.Traces)),
			Summary:         Summarize(c.Traces),
			Traces:          traceOutputs(c.Traces),
		})
		all = append(all[:len(all):len(all)], c.Traces...)
	}
	out.Summary = Summarize(all)
	return out
}

func nonNil(a []AttemptTrace) []AttemptTrace {
	if a == nil {
		return []AttemptTrace{}
	}
	return a
}

func traceOutputs(traces []*Trace) []TraceOutput {
	out := make([]TraceOutput, 0, len(traces))
	for _, t := range traces {
		start, end := math.Inf(1), math.Inf(-1)
		t.Walk(func(s *Span, _ int) {
			start = min(start, s.Start)
			end = max(end, s.End, s.Start)
		})
		d := 0.0
		if end > start {
			d = math.Round((end-start)*1e6) / 1e6
		}
		docs := t.Documents
		if docs == nil {
			docs = []Document{}
		}
		out = append(out, TraceOutput{ID: t.ID, DurationSeconds: d, Documents: docs})
	}
	return out
}

// WriteRaw writes every document of the view's traces, children's too, as
// BatchGetTraces returned it, one a line, so jq can read the stream.
func WriteRaw(w io.Writer, v View) error {
	for _, t := range v.AllTraces() {
		for _, doc := range t.Raw {
			// A document X-Ray stored indented would break the stream.
			var line bytes.Buffer
			if err := json.Compact(&line, []byte(doc)); err != nil {
				return fmt.Errorf("document of trace %s: %w", t.ID, err)
			}
			line.WriteByte('\n')
			if _, err := w.Write(line.Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
}
