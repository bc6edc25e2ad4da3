package traces

import (
	"strconv"

	"github.com/batchxray/batchxray/internal/jobs"
)

// header writes the job's title, its state and times, the failure reason,
// and for a job its X-Ray line: the traces, spans and what failed.
func (r *renderer) header(v View) {
	j := v.Job
	title := []piece{{j.Name, r.bold}}
	if j.Name == "" {
		title[0].text = "job"
	}
	title = append(title, piece{"  " + j.ID, r.muted})
	switch {
	case j.Array != nil:
		title = append(title, piece{"  array of " + strconv.Itoa(j.Array.Size), r.plain})
	case j.ArrayIndex != nil:
		title = append(title, piece{"  index " + strconv.Itoa(*j.ArrayIndex), r.plain})
	}
	r.line(title...)

	facts := []string{}
	now := r.o.Now
	if !j.CreatedAt.IsZero() {
		facts = append(facts, "total "+formatDuration(j.End(now).Sub(j.CreatedAt).Seconds()))
		if s := j.Started(); !s.IsZero() {
			facts = append(facts, "queued "+formatDuration(s.Sub(j.CreatedAt).Seconds()))
		}
	}
	if s := j.Started(); !s.IsZero() {
		facts = append(facts, "ran "+formatDuration(j.End(now).Sub(s).Seconds()))
	}
	if n := len(j.Attempts); n == 1 {
		facts = append(facts, "1 attempt")
	} else if n > 1 {
		facts = append(facts, strconv.Itoa(n)+" attempts")
	}
	chunks := make([][]piece, 0, len(facts))
	for _, f := range facts {
		chunks = append(chunks, []piece{{f, r.plain}})
	}
	st := r.statusPiece(j.Status)
	st.text += "  "
	r.flow(st, chunks, piece{" · ", r.plain})
	if j.StatusReason != "" && j.Status == jobs.Failed {
		r.line(piece{"reason: " + j.StatusReason, r.muted})
	}
	if len(v.Children) > 0 {
		return
	}
	lead := piece{"X-Ray  ", r.muted}
	chunks = chunks[:0]
	switch len(v.Traces) {
	case 0:
		r.line(lead, piece{"no trace", r.muted})
		return
	case 1:
		chunks = append(chunks, []piece{{"trace " + v.Traces[0].ID, r.plain}})
	default:
		chunks = append(chunks, []piece{{strconv.Itoa(len(v.Traces)) + " traces", r.plain}})
	}
	sum := Summarize(v.Traces)
	chunks = append(chunks, []piece{{plural(sum.Spans, "span"), r.plain}})
	for _, c := range r.counts(sum.Faults, sum.Errors, sum.Throttles, sum.InProgress) {
		chunks = append(chunks, []piece{c})
	}
	r.flow(lead, chunks, piece{" · ", r.muted})
}
