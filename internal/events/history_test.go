package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// putEvents writes Batch Job State Change events, as EventBridge does, for
// each job ID through the given states, a second apart from start.
func putEvents(t testing.TB, lc *cloudwatchlogs.Client, group string, start time.Time, states []string, ids ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	var batch []types.InputLogEvent
	for k, st := range states {
		for i, id := range ids {
			at := start.Add(time.Duration(k) * time.Second)
			msg, _ := json.Marshal(map[string]any{
				"version": "0", "id": fmt.Sprintf("ev-%d-%d", i, k), "detail-type": "Batch Job State Change", "source": "aws.batch",
				"time": at.UTC().Format(time.RFC3339),
				"detail": map[string]any{"jobId": id, "jobName": "job-" + id[:4], "status": st, "statusReason": "reason " + st, "createdAt": start.UnixMilli(),
					"jobQueue": "arn:aws:batch:us-east-1:000000000000:job-queue/demo-queue"},
			})
			batch = append(batch, types.InputLogEvent{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(string(msg))})
		}
	}
	if _, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"), LogEvents: batch}); err != nil {
		t.Fatal(err)
	}
}

// Fill reads an array and its children with one query, another job with
// its own, and puts each job's changes, with their reasons, on it.
func TestFillReadsAnArrayOnce(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	lc := &countingLogs{Client: cloudwatchlogs.NewFromConfig(cfg)}
	group := events.GroupFor("demo")
	start := time.Now().Add(-time.Hour).Truncate(time.Second).UTC()
	parent, other := "aaaaaaaa-1111-2222-3333-444455556666", "bbbbbbbb-1111-2222-3333-444455556666"
	putEvents(t, lc.Client, group, start, []string{"PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"}, parent, parent+":0", parent+":1", other)

	js := []*jobs.Job{{ID: parent, CreatedAt: start}, {ID: parent + ":0", CreatedAt: start}, {ID: parent + ":1", CreatedAt: start}, {ID: other, CreatedAt: start}, {ID: "never-recorded"}}
	if err := (events.Log{Client: lc, Group: group}).Fill(context.Background(), js); err != nil {
		t.Fatal(err)
	}
	if got := lc.calls.Load(); got != 3 {
		t.Errorf("%d FilterLogEvents calls, want 3 (the array, the other job, the job never recorded)", got)
	}
	for _, j := range js[:4] {
		if !j.FromEvents || len(j.Transitions) != 5 || j.Transitions[1].State != jobs.Runnable || j.Transitions[1].Reason != "reason RUNNABLE" {
			t.Errorf("%s: FromEvents %v, transitions %+v", j.ID, j.FromEvents, j.Transitions)
		}
		if !j.Transitions[1].At.Equal(start.Add(time.Second)) {
			t.Errorf("%s entered RUNNABLE at %s, want %s", j.ID, j.Transitions[1].At, start.Add(time.Second))
		}
	}
	if last := js[4]; last.FromEvents || last.StatesFrom() != jobs.FromDescribeJobs {
		t.Errorf("a job with no events: FromEvents %v, StatesFrom %s", last.FromEvents, last.StatesFrom())
	}
}

// A stack made before its events were recorded has no log group: the jobs
// keep their figures from DescribeJobs, and that is no error.
func TestFillWithoutTheLogGroup(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	j := &jobs.Job{ID: "id", Transitions: []jobs.Transition{{State: jobs.Running, At: time.Unix(1, 0)}}}
	if err := (events.Log{Client: cloudwatchlogs.NewFromConfig(cfg), Group: events.GroupFor("old")}).Fill(context.Background(), []*jobs.Job{j}); err != nil {
		t.Fatalf("Fill = %v, want nil", err)
	}
	if j.FromEvents || len(j.Transitions) != 1 {
		t.Errorf("job changed: %+v", j)
	}
}
