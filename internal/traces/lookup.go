package traces

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/traceid"
	"github.com/batchxray/batchxray/internal/waiter"
)

// View is everything one drawing shows: a job, the traces found for it (one
// per attempt, usually), and for an array parent its children.
type View struct {
	Job      jobs.Job
	Traces   []*Trace
	Children []ChildTrace
	// Logs are the ends of the failed attempts' output.
	Logs []AttemptLog
}

// ChildTrace is one child of an array job with its traces.
type ChildTrace struct {
	Job    jobs.Job
	Traces []*Trace
}

// Index is the child's array index, or -1 if Batch did not say.
func (c ChildTrace) Index() int {
	if c.Job.ArrayIndex == nil {
		return -1
	}
	return *c.Job.ArrayIndex
}

// ChildView is the view of one child of an array parent, for drawing it
// instead of the table of children. It reports false when there is no child
// with that index.
func (v View) ChildView(index int) (View, bool) {
	for _, c := range v.Children {
		if c.Index() == index {
			return View{Job: c.Job, Traces: c.Traces}, true
		}
	}
	return View{}, false
}

// Progress is told what Lookup is waiting for; *ui.Progress is one.
type Progress interface {
	Start(label string)
	End(label string)
}

// LookupOptions shape Lookup.
type LookupOptions struct {
	// Wait bounds, in all, the wait for the job to end and for X-Ray to
	// index its traces; 0 looks once.
	Wait time.Duration
	// Index, when not nil, picks the child of an array job to return the
	// view of, instead of the parent's.
	Index *int
	// Progress, when not nil, is told of each wait.
	Progress Progress
	// Logs, when not nil, reads the last LogLines lines of each failed
	// attempt's output (see withLogs).
	Logs     LogsAPI
	LogLines int
	// History, when not nil, fills in the job's (and its children's)
	// transitions from Batch's recorded events.
	History jobs.History
}

// IndexError is an Index the job cannot have: it is no array job, or the
// index is past its size.
type IndexError struct {
	JobID string
	Index int
	// Size is the array's size, 0 for a job that is no array job.
	Size int
}

func (e *IndexError) Error() string {
	if e.Size == 0 {
		return fmt.Sprintf("job %s is not an array job", e.JobID)
	}
	return fmt.Sprintf("array job %s has indexes 0 to %d", e.JobID, e.Size-1)
}

// Lookup is what `trace` does: it describes the job, follows it within
// o.Wait if it has not ended (a job sends its trace when it ends), describes
// an array job's children, counts the traces to expect (one per attempt
// that started, or per child that did), finds them with f and hands each
// child its own. It returns a *jobs.NotFoundError when Batch does not know
// the job (or the child asked for), an *IndexError before any waiting, and
// Find's *NotFoundError when there is no trace.
func Lookup(ctx context.Context, bc jobs.WaitAPI, f *Finder, jobID string, o LookupOptions) (View, error) {
	found, _, err := jobs.Describe(ctx, bc, []string{jobID})
	if err != nil {
		return View{}, err
	}
	if len(found) == 0 {
		return View{}, &jobs.NotFoundError{IDs: []string{jobID}}
	}
	j := jobs.FromDetail(found[0])
	traceID := TraceID(found[0])
	if traceID != "" && j.ArrayIndex != nil {
		// A child carries its parent's trace (Batch copies the parent's
		// environment); its own derives from it.
		if traceID, err = traceid.Child(traceID, *j.ArrayIndex); err != nil {
			return View{}, err
		}
	}
	if err := checkIndex(j, o.Index); err != nil {
		return View{}, err
	}
	progress := o.Progress
	if progress == nil {
		progress = noProgress{}
	}
	wait := o.Wait
	if !j.Status.Terminal() && wait > 0 {
		start := f.clock.Now()
		if j, err = follow(ctx, bc, f, j, o.Wait, progress); err != nil {
			return View{}, err
		}
		wait = max(wait-f.clock.Since(start), 0)
	}

	v := View{Job: j}
	expect := 0
	if j.Array != nil {
		if v.Children, err = describeChildren(ctx, bc, j); err != nil {
			return View{}, err
		}
		for _, c := range v.Children {
			if !c.Job.Started().IsZero() {
				expect++
			}
		}
	} else {
		for _, a := range j.Attempts {
			if !a.StartedAt.IsZero() {
				expect++
			}
		}
	}

	fillHistory(ctx, o.History, &v)
	nameInterruptions(ctx, bc, &v)
	req := Request{Job: v.Job, Wait: wait, Expect: expect}
	if traceID != "" {
		if req.TraceIDs, err = traceIDs(traceID, v.Children); err != nil {
			return View{}, err
		}
	}
	label := fmt.Sprintf("looking for the traces of %s in X-Ray (up to %s)", j.ID, wait.Round(time.Second))
	progress.Start(label)
	start := f.clock.Now()
	got, err := f.Find(ctx, req)
	if err == nil {
		if j.Array != nil {
			groupChildren(&v, got)
		} else {
			v.Traces = got
		}
		// X-Ray returns what it has indexed: for an ended job, wait for
		// the rest of what its segments say they hold.
		err = f.awaitComplete(ctx, &v, wait-f.clock.Since(start))
	}
	progress.End(label)
	if err != nil {
		return View{}, err
	}
	if o.Index == nil {
		return withLogs(ctx, v, o)
	}
	// The index was checked against the size; a child Batch did not
	// describe has no view.
	child, ok := v.ChildView(*o.Index)
	if !ok {
		return View{}, &jobs.NotFoundError{IDs: []string{j.ID + ":" + strconv.Itoa(*o.Index)}}
	}
	return withLogs(ctx, child, o)
}

// TraceID is the trace submit decided for the job: its batchxray:trace-id
// tag, else the Root of the trace header in its container's environment;
// "" for a job that carries none (one submitted with raw SubmitJob).
func TraceID(d types.JobDetail) string {
	if id := d.Tags[jobs.TraceTagKey]; traceid.Valid(id) {
		return id
	}
	if d.Container != nil {
		for _, kv := range d.Container.Environment {
			if aws.ToString(kv.Name) != traceid.EnvVar {
				continue
			}
			if h, err := traceid.Parse(aws.ToString(kv.Value)); err == nil {
				return h.Root
			}
		}
	}
	return ""
}

// traceIDs are the traces to fetch: the job's own and, for an array
// parent, each child's that started, derived by the rule.
func traceIDs(id string, children []ChildTrace) ([]string, error) {
	ids := []string{id}
	for _, c := range children {
		if c.Job.Started().IsZero() || c.Index() < 0 {
			continue
		}
		cid, err := traceid.Child(id, c.Index())
		if err != nil {
			return nil, err
		}
		ids = append(ids, cid)
	}
	return ids, nil
}

type noProgress struct{}

func (noProgress) Start(string) {}
func (noProgress) End(string)   {}

// checkIndex refuses an index the job cannot have, before any waiting.
func checkIndex(j jobs.Job, index *int) error {
	switch {
	case index == nil:
		return nil
	case j.Array == nil:
		return &IndexError{JobID: j.ID, Index: *index}
	case *index >= j.Array.Size:
		return &IndexError{JobID: j.ID, Index: *index, Size: j.Array.Size}
	}
	return nil
}

// follow waits, within wait, for a job that has not ended. It returns the
// job as last seen, with the transitions seen on the way; a job that
// FAILED or is still going is no error here.
func follow(ctx context.Context, bc jobs.WaitAPI, f *Finder, j jobs.Job, wait time.Duration, progress Progress) (jobs.Job, error) {
	label := fmt.Sprintf("waiting for %s to end (up to %s)", j.ID, wait)
	progress.Start(label)
	defer progress.End(label)
	js, err := jobs.Wait(ctx, bc, []string{j.ID}, jobs.WaitOptions{MaxWait: wait, Clock: f.clock})
	var (
		failed   *jobs.FailedError
		timedOut *waiter.TimeoutError
	)
	if err != nil && !errors.As(err, &failed) && !errors.As(err, &timedOut) {
		return j, err
	}
	if len(js) == 1 && !js[0].CreatedAt.IsZero() {
		return *js[0], nil
	}
	return j, nil
}

// describeChildren describes every child of an array job; Batch names them
// <parent>:<index>.
func describeChildren(ctx context.Context, bc jobs.DescribeJobsAPI, parent jobs.Job) ([]ChildTrace, error) {
	ids := make([]string, parent.Array.Size)
	for i := range ids {
		ids[i] = parent.ID + ":" + strconv.Itoa(i)
	}
	details, _, err := jobs.Describe(ctx, bc, ids)
	if err != nil {
		return nil, err
	}
	children := make([]ChildTrace, 0, len(details))
	for _, d := range details {
		children = append(children, ChildTrace{Job: jobs.FromDetail(d)})
	}
	return children, nil
}

// groupChildren hands each trace of an array job to the child whose index
// its segment carries. A trace without one stays with the parent.
func groupChildren(v *View, ts []*Trace) {
	byIndex := make(map[int]int, len(v.Children))
	for i, c := range v.Children {
		byIndex[c.Index()] = i
	}
	for _, t := range ts {
		if idx, ok := ArrayIndex(t); ok {
			if i, ok := byIndex[idx]; ok {
				v.Children[i].Traces = append(v.Children[i].Traces, t)
				continue
			}
		}
		v.Traces = append(v.Traces, t)
	}
}
