package traces

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/waiter"
)

// The complete segment's count of every subsegment in its tree, written by
// internal/jobrunner: those sent before it as documents of their own, with
// what they embed, and those it embeds. Once streamed, a subsegment is
// neither embedded in nor listed by its segment, so the count is how a
// reader knows it has them all. The X-Ray SDK's segment has it in its
// batchxray metadata namespace (key subsegments). OpenTelemetry's root span
// carries it as the attribute batchxray.subsegments, not listed in
// aws.xray.annotations, which AWS's OpenTelemetry-to-X-Ray mapping (the
// CloudWatch agent's and ADOT's awsxray exporter, X-Ray's OTLP endpoint)
// keeps as metadata in the default namespace under its full key.
const (
	metadataNamespace = "batchxray"
	subsegmentsKey    = "subsegments"
	defaultNamespace  = "default"
	otelSubsegments   = metadataNamespace + "." + subsegmentsKey
)

// exitKilled is the exit code of a process killed by SIGKILL (128 + 9), as
// ECS reports a container the kernel's OOM killer ended.
const exitKilled = 137

// awaitComplete fetches again, by ID and within wait, the traces of v that
// X-Ray has not returned whole yet (see incomplete), with the Finder's
// backoff, until every one is whole. Running out of wait is no failure: what
// is there is drawn (an attempt still without its complete segment then
// shows as killed).
func (f *Finder) awaitComplete(ctx context.Context, v *View, wait time.Duration) error {
	todo := v.incomplete()
	if len(todo) == 0 || wait <= 0 {
		return nil
	}
	check := func(ctx context.Context) (bool, error) {
		got, err := f.Find(ctx, Request{Job: v.Job, TraceIDs: todo})
		if _, ok := errors.AsType[*NotFoundError](err); ok {
			return false, nil // not one job segment readable yet
		}
		if err != nil {
			return false, err
		}
		v.replace(got)
		todo = v.incomplete()
		return len(todo) == 0, nil
	}
	err := waiter.Wait(ctx, "get the whole traces of job "+v.Job.ID, waiter.Options{
		MinDelay: f.MinDelay, MaxDelay: f.MaxDelay, MaxWait: wait, Clock: f.clock, Sleep: f.sleep,
	}, check)
	if _, ok := errors.AsType[*waiter.TimeoutError](err); ok {
		return nil
	}
	return err
}

// incomplete lists the traces of the view, the job's and each child's, that
// are not whole yet.
func (v View) incomplete() []string {
	ids := incomplete(v.Job, v.Traces)
	for _, c := range v.Children {
		ids = append(ids, incomplete(c.Job, c.Traces)...)
	}
	return ids
}

// replace puts each trace of got in the place of the one with its ID.
func (v *View) replace(got []*Trace) {
	byID := make(map[string]*Trace, len(got))
	for _, t := range got {
		byID[t.ID] = t
	}
	swap := func(ts []*Trace) {
		for i, t := range ts {
			if n, ok := byID[t.ID]; ok {
				ts[i] = n
			}
		}
	}
	swap(v.Traces)
	for _, c := range v.Children {
		swap(c.Traces)
	}
}

// incomplete lists the traces that X-Ray has not yet returned whole for the
// job: an attempt that ended has only its in-progress segment although it
// was not killed (its complete one is on its way), or a complete segment
// counts more streamed subsegments than the trace holds. BatchGetTraces
// returns what it has indexed so far, and each document is indexed on its
// own, so a complete root can be readable before the subsegments streamed
// ahead of it, and the other way round.
func incomplete(j jobs.Job, ts []*Trace) []string {
	var ids []string
	for _, t := range ts {
		if !traceComplete(j, t) {
			ids = append(ids, t.ID)
		}
	}
	return ids
}

// traceComplete reports whether t holds every document the job's
// segments in it say it should.
func traceComplete(j jobs.Job, t *Trace) bool {
	docs := documentsByID(t)
	ok := true
	t.Walk(func(s *Span, _ int) {
		if !ok || !s.Segment || s.Inferred || s.Name == jobs.SubmitSegmentName {
			return
		}
		if s.InProgress {
			ok = !attemptEnded(j, s) || attemptKilled(j, s)
			return
		}
		if want, has := subsegmentCount(docs[s.ID]); has && subsegments(s) < want {
			ok = false
		}
	})
	return ok
}

// documentsByID is the most finished top-level document of each ID.
func documentsByID(t *Trace) map[string]Document {
	out := make(map[string]Document, len(t.Documents))
	for _, d := range t.Documents {
		if have, ok := out[d.ID]; !ok || better(d, have) {
			out[d.ID] = d
		}
	}
	return out
}

// subsegments counts the subsegments under s, down to the segments below
// it (which count their own). The tree holds each ID once.
func subsegments(s *Span) int {
	n := 0
	for _, c := range s.Children {
		if !c.Segment {
			n += 1 + subsegments(c)
		}
	}
	return n
}

// subsegmentCount is the complete segment's count of the subsegments in
// its tree, from either tracer, and whether it has one (other SDKs send
// none).
func subsegmentCount(d Document) (int, bool) {
	for _, n := range []any{d.Metadata[metadataNamespace][subsegmentsKey], d.Metadata[defaultNamespace][otelSubsegments]} {
		switch n := n.(type) {
		case float64:
			return int(n), true
		case int:
			return n, true
		}
	}
	return 0, false
}

// attempt is the job's attempt a segment belongs to, by its attempt
// annotation; false when Batch does not list it (it still runs).
func attempt(j jobs.Job, s *Span) (jobs.Attempt, int, bool) {
	n, ok := attemptNumber(s.Annotations["attempt"])
	if !ok || n < 1 || n > len(j.Attempts) {
		return jobs.Attempt{}, 0, false
	}
	return j.Attempts[n-1], n, true
}

// attemptEnded reports whether Batch says the segment's attempt has
// stopped. A segment of no attempt Batch lists is of one that runs, or of
// a job that has not ended.
func attemptEnded(j jobs.Job, s *Span) bool {
	a, _, ok := attempt(j, s)
	return ok && !a.StoppedAt.IsZero()
}

// attemptKilled reports whether Batch says the segment's attempt was
// killed without warning, so that its complete segment will never come:
// out of memory, SIGKILL, its host gone (Spot reclaimed), or a container
// that never exited on its own.
func attemptKilled(j jobs.Job, s *Span) bool {
	a, _, ok := attempt(j, s)
	if !ok {
		return false
	}
	switch {
	case a.ExitCode == nil, *a.ExitCode == exitKilled, a.Interruption != "",
		strings.HasPrefix(a.Reason, "OutOfMemoryError"):
		return true
	}
	return false
}
