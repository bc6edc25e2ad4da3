package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	ltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
)

// Transition is a job entering a state, as its recorded event says.
type Transition struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
}

// Source says where the report's job figures came from: the stack's
// recorded job events where it has them, else DescribeJobs.
type Source struct {
	// EventsGroup is the log group the job events were read from, "" when
	// the Gatherer was given none.
	EventsGroup string `json:"eventsGroup,omitempty"`
	// FromEvents counts the jobs whose transitions come from their
	// events; the others' figures come from DescribeJobs alone.
	FromEvents int `json:"fromEvents"`
	// Forgotten counts the jobs Batch no longer returns, known from their
	// events alone.
	Forgotten int `json:"forgotten"`
	// Unread, when set, is why the events could not be read.
	Unread string `json:"unread,omitempty"`
}

// eventsSlack widens the range of events read: an event's time has whole
// seconds, and one is written a little after its transition.
const eventsSlack = time.Minute

// withEvents puts on the jobs the transitions the stack recorded for them
// and adds the jobs Batch no longer returns that the request asks for,
// from their events: over a window, those created in it; by ID, the
// unknown IDs (an array parent's children in its place). Parents are the
// array parents Batch returned, already counted. It returns the
// unknown IDs the events do not know either. With no events group, or one
// that cannot be read, the jobs stay as DescribeJobs gave them, every
// unknown ID stays unknown, and the source says why.
func (g *Gatherer) withEvents(ctx context.Context, req Request, in *Input, parents, unknown []string) ([]string, error) {
	if g.Logs == nil || g.EventsGroup == "" {
		return unknown, nil
	}
	in.Source.EventsGroup = g.EventsGroup
	since := req.Since
	if len(req.Jobs) > 0 {
		// A forgotten job's creation is in its events alone: read them all.
		since = time.Time{}
		for _, j := range in.Jobs {
			if len(unknown) == 0 && (since.IsZero() || j.CreatedAt.Before(since)) {
				since = j.CreatedAt
			}
		}
	}
	if !since.IsZero() {
		since = since.Add(-eventsSlack)
	}
	done := g.step("reading the recorded job events")
	changes, err := events.ReadAll(ctx, g.Logs, g.EventsGroup, since, time.Time{})
	var missing *ltypes.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		in.Source.Unread = "no log group " + g.EventsGroup
		done("the stack records no job events (" + in.Source.Unread + ")")
		return unknown, nil
	case err != nil && ctx.Err() == nil:
		in.Source.Unread = err.Error()
		done("could not read the job events")
		return unknown, nil
	case err != nil:
		return nil, err
	}
	known := make(map[string]bool, len(in.Jobs)+len(parents))
	for _, p := range parents {
		known[p] = true
	}
	for i := range in.Jobs {
		j := &in.Jobs[i]
		known[j.ID] = true
		if applyEvents(j, changes[j.ID]) {
			in.Source.FromEvents++
		}
	}
	asked := make(map[string]bool, len(unknown))
	for _, id := range unknown {
		asked[jobID(id)] = true
	}
	// wanted says whether the request asks for a job Batch no longer
	// returns: the one code path for a window and for IDs.
	wanted := func(j Job) bool {
		if len(req.Jobs) > 0 {
			return asked[j.ID] || asked[j.ArrayJobID]
		}
		return !j.CreatedAt.Before(req.Since) && (req.Until.IsZero() || !j.CreatedAt.After(req.Until))
	}
	found := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(changes)) {
		if known[id] {
			continue
		}
		j, parent, ok := forgotten(changes[id])
		if !ok || !wanted(j) {
			continue
		}
		found[j.ID], found[j.ArrayJobID] = true, true
		if parent {
			in.Arrays++
			continue
		}
		if !keep(req, j) {
			continue
		}
		applyEvents(&j, changes[id])
		in.Jobs = append(in.Jobs, j)
		in.Source.FromEvents++
		in.Source.Forgotten++
	}
	done(fmt.Sprintf("read the events of %s (%d Batch no longer returns)", plural(in.Source.FromEvents, "job"), in.Source.Forgotten))
	return slices.DeleteFunc(unknown, func(id string) bool { return found[jobID(id)] }), nil
}

// jobID is the job ID that id names: id itself, or the ID at the end of a
// job ARN (arn:aws:batch:REGION:ACCOUNT:job/ID), which DescribeJobs takes
// as well but the events do not carry as the job's ID.
func jobID(id string) string {
	if i := strings.LastIndex(id, ":job/"); strings.HasPrefix(id, "arn:") && i >= 0 {
		return id[i+len(":job/"):]
	}
	return id
}

// applyEvents puts the recorded changes on the job as its transitions.
func applyEvents(j *Job, cs []events.Change) bool {
	if len(cs) == 0 {
		return false
	}
	var jj jobs.Job
	events.Apply(&jj, cs)
	j.Transitions = make([]Transition, 0, len(jj.Transitions))
	for _, t := range jj.Transitions {
		j.Transitions = append(j.Transitions, Transition{State: string(t.State), At: t.At})
	}
	return jj.FromEvents
}

// forgotten is a job Batch no longer returns, from the JobDetail its last
// recorded event carries; parent is set for an array parent, which is not
// a job the report counts (its children are).
func forgotten(cs []events.Change) (j Job, parent, ok bool) {
	var d btypes.JobDetail
	if len(cs) == 0 || json.Unmarshal(cs[len(cs)-1].Detail, &d) != nil || d.JobId == nil {
		return Job{}, false, false
	}
	j = FromDetail(d)
	j.Forgotten = true
	return j, IsArrayParent(d), true
}
