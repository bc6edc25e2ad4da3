package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
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

type countingLogs struct {
	*cloudwatchlogs.Client
	calls atomic.Int64
}

func (c *countingLogs) FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	c.calls.Add(1)
	return c.Client.FilterLogEvents(ctx, in, o...)
}

// BenchmarkReadArrayOf1000 reads the transitions of a 1,000-child array
// (five events a child, in the shape EventBridge writes them) from a
// stand-in answering each call in 50 ms.
func BenchmarkReadArrayOf1000(b *testing.B) {
	lc, group, parent := arrayOf1000(b)
	began := time.Now()
	for b.Loop() {
		got, err := events.Read(context.Background(), lc, group, parent, time.Time{}, time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 1000 || len(got[parent+":999"]) != 5 {
			b.Fatalf("%d children read, want 1000 with 5 changes each", len(got))
		}
	}
	b.ReportMetric(float64(lc.calls.Load())/float64(b.N), "calls/op")
	b.ReportMetric(time.Since(began).Seconds()/float64(b.N), "wall-s/op")
}

// BenchmarkFillArrayOf1000 is what status and trace do for such an array:
// Log.Fill of the parent and its 1,000 children, one query for them all.
func BenchmarkFillArrayOf1000(b *testing.B) {
	lc, group, parent := arrayOf1000(b)
	js := make([]*jobs.Job, 0, 1001)
	js = append(js, &jobs.Job{ID: parent})
	for i := range 1000 {
		js = append(js, &jobs.Job{ID: fmt.Sprintf("%s:%d", parent, i)})
	}
	began := time.Now()
	for b.Loop() {
		if err := (events.Log{Client: lc, Group: group}).Fill(context.Background(), js); err != nil {
			b.Fatal(err)
		}
		if !js[1000].FromEvents || len(js[1000].Transitions) != 5 {
			b.Fatalf("child 999: %+v, want its 5 changes", js[1000])
		}
	}
	b.ReportMetric(float64(lc.calls.Load())/float64(b.N), "calls/op")
	b.ReportMetric(time.Since(began).Seconds()/float64(b.N), "wall-s/op")
}

// arrayOf1000 starts a stand-in answering each call in 50 ms with the
// events of a 1,000-child array (five a child, in the shape EventBridge
// writes them) in the log group; its calls are counted from zero.
func arrayOf1000(b *testing.B) (*countingLogs, string, string) {
	_, cfg := localawstest.Start(b, localaws.Options{Latency: 50 * time.Millisecond})
	ctx := context.Background()
	lc := &countingLogs{Client: cloudwatchlogs.NewFromConfig(cfg)}
	group, parent := events.GroupFor("demo"), "0f8e5d2a-1111-2222-3333-444455556666"
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		b.Fatal(err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")}); err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var batch []types.InputLogEvent
	for i := range 1000 {
		for k, st := range []string{"PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"} {
			at := start.Add(time.Duration(i+k) * time.Second)
			msg, _ := json.Marshal(map[string]any{
				"version": "0", "id": fmt.Sprintf("ev-%d-%d", i, k), "detail-type": "Batch Job State Change", "source": "aws.batch",
				"account": "000000000000", "time": at.UTC().Format(time.RFC3339), "region": "us-east-1",
				"resources": []string{"arn:aws:batch:us-east-1:000000000000:job/" + parent + ":" + fmt.Sprint(i)},
				"detail":    map[string]any{"jobId": fmt.Sprintf("%s:%d", parent, i), "status": st, "jobQueue": "arn:aws:batch:us-east-1:000000000000:job-queue/demo-queue", "createdAt": start.UnixMilli()},
			})
			batch = append(batch, types.InputLogEvent{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(string(msg))})
		}
	}
	// In time order, as one stream must be written.
	sortByTime(batch)
	// PutLogEvents takes at most 1 MB a call.
	for len(batch) > 0 {
		n := min(len(batch), 1500)
		if _, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"), LogEvents: batch[:n]}); err != nil {
			b.Fatal(err)
		}
		batch = batch[n:]
	}
	lc.calls.Store(0)
	return lc, group, parent
}

func sortByTime(es []types.InputLogEvent) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && *es[j].Timestamp < *es[j-1].Timestamp; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}
