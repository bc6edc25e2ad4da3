package logs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// BenchmarkPutLogEvents measures one PutLogEvents of 100 events of 100
// bytes through the SDK and the stand-in's router, as a job's log driver
// sends them.
func BenchmarkPutLogEvents(b *testing.B) {
	clock := clockwork.NewFakeClockAt(epoch)
	_, cfg := localawstest.Start(b, localaws.Options{Clock: clock})
	c := cwl.NewFromConfig(cfg)
	ctx := context.Background()
	must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")}))(b)
	must(c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}))(b)
	events := make([]types.InputLogEvent, 100)
	for i := range events {
		events[i] = types.InputLogEvent{Timestamp: aws.Int64(epoch.Add(time.Duration(i) * time.Millisecond).UnixMilli()), Message: aws.String(fmt.Sprintf("%099d", i))}
	}
	in := &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events}
	b.ResetTimer()
	for b.Loop() {
		out, err := c.PutLogEvents(ctx, in)
		if err != nil || out.RejectedLogEventsInfo != nil {
			b.Fatal(err, out.RejectedLogEventsInfo)
		}
		// The next batch is 100 ms later, as a running job's would be.
		b.StopTimer()
		clock.Advance(100 * time.Millisecond)
		for i := range events {
			events[i].Timestamp = aws.Int64(*events[i].Timestamp + 100)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkGetLogEvents measures reading the latest 1,000 events of a
// stream holding 10,000.
func BenchmarkGetLogEvents(b *testing.B) {
	clock := clockwork.NewFakeClockAt(epoch)
	_, cfg := localawstest.Start(b, localaws.Options{Clock: clock})
	c := cwl.NewFromConfig(cfg)
	ctx := context.Background()
	must(c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")}))(b)
	must(c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")}))(b)
	for batch := range 10 {
		events := make([]types.InputLogEvent, 1000)
		for i := range events {
			at := epoch.Add(time.Duration(batch*1000+i) * time.Millisecond)
			events[i] = types.InputLogEvent{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String("line")}
		}
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events}); err != nil {
			b.Fatal(err)
		}
	}
	in := &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(1000)}
	b.ResetTimer()
	for b.Loop() {
		out, err := c.GetLogEvents(ctx, in)
		if err != nil || len(out.Events) != 1000 {
			b.Fatalf("%d events, %v", len(out.Events), err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
