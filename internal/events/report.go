package events

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// ReadAll returns the recorded changes of every job in the group between
// since and until (zero: unbounded), by job ID, each in order. It is Read
// for a report over many jobs: one query over the whole group pages
// through the window, where a query per job would cost a call each. An
// event delivered twice counts once.
func ReadAll(ctx context.Context, c LogsAPI, group string, since, until time.Time) (map[string][]Change, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(group)}
	if !since.IsZero() {
		in.StartTime = aws.Int64(since.UnixMilli())
	}
	if !until.IsZero() {
		in.EndTime = aws.Int64(until.UnixMilli())
	}
	seen := map[string]bool{}
	out := map[string][]Change{}
	for {
		page, err := c.FilterLogEvents(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read the job events in %s: %w", group, err)
		}
		for _, e := range page.Events {
			var ev event
			msg := aws.ToString(e.Message)
			if json.Unmarshal([]byte(msg), &ev) != nil || ev.Source != "aws.batch" || ev.Type != "Batch Job State Change" || seen[ev.ID] || ev.Detail.JobID == "" {
				continue
			}
			seen[ev.ID] = true
			out[ev.Detail.JobID] = append(out[ev.Detail.JobID], change(ev, msg))
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
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
