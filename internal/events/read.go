package events

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/batchxray/batchxray/internal/jobs"
)

// LogsAPI is the one CloudWatch Logs call Read makes.
type LogsAPI interface {
	FilterLogEvents(context.Context, *cloudwatchlogs.FilterLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

var _ LogsAPI = (*cloudwatchlogs.Client)(nil)

// GroupFor is the log group a stack's job events are recorded in.
func GroupFor(stack string) string { return "/batchxray/" + stack + "/events" }

// Change is one recorded transition of a job.
type Change struct {
	JobID string     `json:"jobId"`
	State jobs.State `json:"state"`
	// At is when the job entered the state: Batch's own timestamp where
	// the detail has one (startedAt, stoppedAt), else the event's time.
	At           time.Time `json:"at"`
	StatusReason string    `json:"statusReason,omitempty"`
	// Detail is the job as the event carried it.
	Detail json.RawMessage `json:"-"`
}

// event is the part of the event Read uses.
type event struct {
	ID     string    `json:"id"`
	Type   string    `json:"detail-type"`
	Source string    `json:"source"`
	Time   time.Time `json:"time"`
	Detail struct {
		JobID        string `json:"jobId"`
		Status       string `json:"status"`
		StatusReason string `json:"statusReason"`
		CreatedAt    int64  `json:"createdAt"`
		StartedAt    int64  `json:"startedAt"`
		StoppedAt    int64  `json:"stoppedAt"`
	} `json:"detail"`
	Raw json.RawMessage `json:"-"`
}

// Read returns the recorded changes of the job and of its array children,
// by job ID, each in order, between since and until (zero: unbounded). It
// pages FilterLogEvents with its tokens; an event delivered twice counts
// once, as EventBridge delivers at least once.
func Read(ctx context.Context, c LogsAPI, group, jobID string, since, until time.Time) (map[string][]Change, error) {
	in := window(group, since, until)
	// A quoted term: CloudWatch Logs and the stand-in both match it; the
	// job ID is then checked exactly.
	in.FilterPattern = aws.String(`"` + jobID + `"`)
	return collect(ctx, c, in, "read job events of "+jobID+" from "+group, func(id string) bool {
		return id == jobID || strings.HasPrefix(id, jobID+":")
	})
}

// window is the query of the group's events between since and until
// (zero: unbounded).
func window(group string, since, until time.Time) *cloudwatchlogs.FilterLogEventsInput {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)}
	if !since.IsZero() {
		in.StartTime = aws.Int64(since.UnixMilli())
	}
	if !until.IsZero() {
		in.EndTime = aws.Int64(until.UnixMilli())
	}
	return in
}

// collect runs the query and returns the changes of the jobs keep wants,
// by job ID, each in order; an event delivered twice counts once.
func collect(ctx context.Context, c LogsAPI, in *cloudwatchlogs.FilterLogEventsInput, what string, keep func(jobID string) bool) (map[string][]Change, error) {
	seen := map[string]bool{}
	out := map[string][]Change{}
	err := scan(ctx, c, in, what, func(ev event, msg string) {
		id := ev.Detail.JobID
		if seen[ev.ID] || !keep(id) {
			return
		}
		seen[ev.ID] = true
		out[id] = append(out[id], change(ev, msg))
	})
	if err != nil {
		return nil, err
	}
	for id := range out {
		slices.SortStableFunc(out[id], func(a, b Change) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return order(a.State) - order(b.State)
		})
	}
	return out, nil
}

// scan pages through the query with its tokens and hands each Batch Job
// State Change event to visit, with the message it was parsed from; what
// names the read in an error.
func scan(ctx context.Context, c LogsAPI, in *cloudwatchlogs.FilterLogEventsInput, what string, visit func(ev event, msg string)) error {
	for {
		page, err := c.FilterLogEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for _, e := range page.Events {
			var ev event
			msg := aws.ToString(e.Message)
			if json.Unmarshal([]byte(msg), &ev) != nil || ev.Source != "aws.batch" || ev.Type != "Batch Job State Change" {
				continue
			}
			visit(ev, msg)
		}
		next := aws.ToString(page.NextToken)
		if next == "" {
			return nil
		}
		in.NextToken = aws.String(next)
	}
}

func change(ev event, msg string) Change {
	c := Change{JobID: ev.Detail.JobID, State: jobs.State(ev.Detail.Status), At: ev.Time.UTC(), StatusReason: ev.Detail.StatusReason}
	var whole struct {
		Detail json.RawMessage `json:"detail"`
	}
	if json.Unmarshal([]byte(msg), &whole) == nil {
		c.Detail = whole.Detail
	}
	// The event's time has whole seconds; Batch's own times are exact, and
	// no state begins before the job was created.
	if created := time.UnixMilli(ev.Detail.CreatedAt).UTC(); ev.Detail.CreatedAt > 0 && c.At.Before(created) {
		c.At = created
	}
	switch {
	case c.State == jobs.Running && ev.Detail.StartedAt > 0:
		c.At = time.UnixMilli(ev.Detail.StartedAt).UTC()
	case c.State.Terminal() && ev.Detail.StoppedAt > 0:
		c.At = time.UnixMilli(ev.Detail.StoppedAt).UTC()
	}
	return c
}

func order(s jobs.State) int { return slices.Index(jobs.States, s) }

// Apply puts a job's recorded changes on it as its transitions, with
// their reasons, and marks its figures as coming from the events; the
// transitions polling saw after the last recorded one (not delivered yet)
// follow them. With no changes the job is left as it is, its figures from
// DescribeJobs.
func Apply(j *jobs.Job, cs []Change) {
	if len(cs) == 0 {
		return
	}
	ts := make([]jobs.Transition, 0, len(cs))
	for _, c := range cs {
		if n := len(ts); n > 0 && ts[n-1].State == c.State {
			continue
		}
		ts = append(ts, jobs.Transition{State: c.State, At: c.At, Reason: c.StatusReason})
	}
	// Events arrive a little after the transitions: what polling saw
	// after the last one delivered is kept.
	last := ts[len(ts)-1]
	for _, t := range j.Transitions {
		if t.At.After(last.At) && t.State != last.State {
			ts = append(ts, t)
			last = t
		}
	}
	j.Transitions = ts
	j.FromEvents = true
}
