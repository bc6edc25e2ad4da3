package xray_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	lxray "github.com/batchxray/batchxray/internal/localaws/xray"
)

// BenchmarkGetTraceSummariesSDK is what `batchxray trace` meets: the AWS
// SDK's client over loopback HTTP against 100,000 stored job traces.
func BenchmarkGetTraceSummariesSDK(b *testing.B) {
	const traces = 100_000
	srv, cfg := localawstest.Start(b, localaws.Options{})
	for i := range traces {
		if err := srv.XRay().Ingest(lxray.JobSegment(i)); err != nil {
			b.Fatal(err)
		}
	}
	c := xray.NewFromConfig(cfg)
	for _, bc := range []struct {
		name, filter string
		want         int
	}{
		{"selective", `annotation.job_id = "job-77777"`, 1},
		{"broad", `annotation.job_queue = "batch-xray-queue"`, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := &xray.GetTraceSummariesInput{
				StartTime:        aws.Time(time.Unix(base-1, 0)),
				EndTime:          aws.Time(time.Unix(base+traces/2+1, 0)),
				FilterExpression: aws.String(bc.filter),
			}
			b.ReportAllocs()
			for b.Loop() {
				out, err := c.GetTraceSummaries(context.Background(), in)
				if err != nil {
					b.Fatal(err)
				}
				if len(out.TraceSummaries) != bc.want {
					b.Fatalf("%d summaries, want %d", len(out.TraceSummaries), bc.want)
				}
			}
		})
	}
}
