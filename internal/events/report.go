package events

import (
	"context"
	"time"
)

// ReadAll returns the recorded changes of every job in the group between
// since and until (zero: unbounded), by job ID, each in order. It is Read
// for a report over many jobs: one query over the whole group pages
// through the window, where a query per job would cost a call each. An
// event delivered twice counts once.
func ReadAll(ctx context.Context, c LogsAPI, group string, since, until time.Time) (map[string][]Change, error) {
	return collect(ctx, c, window(group, since, until), "read the job events in "+group, func(id string) bool { return id != "" })
}
