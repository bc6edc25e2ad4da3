package events

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/batchxray/batchxray/internal/jobs"
)

// Log is a stack's job events log group, read as a jobs.History: status
// and trace fill in each job's transitions from it.
type Log struct {
	Client LogsAPI
	// Group is the log group, GroupFor(stack).
	Group string
}

var _ jobs.History = Log{}

// slack widens the time range read around the jobs: an event's time has
// whole seconds, and one may be written a little after its transition.
const slack = time.Minute

// Fill puts on each job the changes recorded for it. An array parent and
// its children among js are read with one query (by the parent's ID,
// which every child's ID starts with), so a 1,000-child array costs the
// few calls its pages take, not one a child. A log group that does not
// exist (a stack made before the events were recorded) is no error: the
// jobs keep their figures from DescribeJobs.
func (l Log) Fill(ctx context.Context, js []*jobs.Job) error {
	byID := make(map[string]*jobs.Job, len(js))
	for _, j := range js {
		byID[j.ID] = j
	}
	// Group the jobs by the ID they are read under.
	roots := map[string][]*jobs.Job{}
	var order []string
	for _, j := range js {
		root := j.ID
		if parent, _, ok := strings.Cut(j.ID, ":"); ok && byID[parent] != nil {
			root = parent
		}
		if _, seen := roots[root]; !seen {
			order = append(order, root)
		}
		roots[root] = append(roots[root], j)
	}
	for _, root := range order {
		group := roots[root]
		since := earliest(group)
		if !since.IsZero() {
			since = since.Add(-slack)
		}
		got, err := Read(ctx, l.Client, l.Group, root, since, time.Time{})
		var missing *types.ResourceNotFoundException
		if errors.As(err, &missing) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, j := range group {
			Apply(j, got[j.ID])
		}
	}
	return nil
}

// earliest is the first creation time among the jobs, zero if one has none.
func earliest(js []*jobs.Job) time.Time {
	ts := make([]time.Time, 0, len(js))
	for _, j := range js {
		if j.CreatedAt.IsZero() {
			return time.Time{}
		}
		ts = append(ts, j.CreatedAt)
	}
	return slices.MinFunc(ts, time.Time.Compare)
}
