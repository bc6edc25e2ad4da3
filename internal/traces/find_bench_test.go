package traces

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// BenchmarkFindArray1000 finds and draws the traces of a 1,000-child array
// job on the stand-in, with 50 ms added to every call. The lower bound is
// the calls that must follow each other: the pages of summaries one after
// another, then the BatchGetTraces calls Concurrency at a time.
func BenchmarkFindArray1000(b *testing.B) {
	const (
		children = 1000
		latency  = 50 * time.Millisecond
		perPage  = 100 // the stand-in's and X-Ray's page of summaries
	)
	_, cfg := localawstest.Start(b, localaws.Options{Latency: latency})
	client := xray.NewFromConfig(cfg)
	now := time.Now()
	parent := jobs.Job{ID: "bench-array", Name: "bench", Status: jobs.Succeeded, Array: &jobs.Array{Size: children},
		CreatedAt: now.Add(-2 * time.Minute), StartedAt: now.Add(-time.Minute), StoppedAt: now.Add(-time.Second)}
	ctx := context.Background()
	for i := 0; i < children; i += 50 {
		var docs []string
		for c := i; c < i+50; c++ {
			start := float64(now.Add(-time.Minute).UnixNano())/1e9 + float64(c)/1000
			docs = append(docs, fmt.Sprintf(`{"name":"BatchJob","id":"%016x","trace_id":"1-%08x-%024x","start_time":%f,"end_time":%f,`+
				`"annotations":{"array_job_id":%q,"array_index":%d,"job_id":"%s:%d"},"subsegments":[`+
				`{"id":"%016x","name":"S3","namespace":"aws","start_time":%f,"end_time":%f,"aws":{"operation":"PutObject"}}]}`,
				c+1, now.Add(-time.Minute).Unix(), c, start, start+2, parent.ID, c, parent.ID, c, 1<<40+c, start+0.5, start+0.7))
		}
		if _, err := client.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: docs}); err != nil {
			b.Fatal(err)
		}
	}
	f := NewFinder(client, clockwork.NewRealClock())
	calls := (children+perPage-1)/perPage + (children/BatchSize+f.Concurrency-1)/f.Concurrency
	bound := time.Duration(calls) * latency
	b.ResetTimer()
	for b.Loop() {
		traces, err := f.Find(ctx, Request{Job: parent, Expect: children})
		if err != nil {
			b.Fatal(err)
		}
		if len(traces) != children {
			b.Fatalf("found %d traces, want %d", len(traces), children)
		}
		byIndex := map[int][]*Trace{}
		for _, t := range traces {
			i, _ := ArrayIndex(t)
			byIndex[i] = append(byIndex[i], t)
		}
		v := View{Job: parent}
		for i := 0; i < children; i++ {
			idx := i
			v.Children = append(v.Children, ChildTrace{Job: jobs.Job{ID: fmt.Sprintf("%s:%d", parent.ID, i), Status: jobs.Succeeded,
				CreatedAt: parent.CreatedAt, StartedAt: parent.StartedAt, StoppedAt: parent.StoppedAt, ArrayIndex: &idx}, Traces: byIndex[i]})
		}
		_ = Render(v, Options{Width: 120, Now: now})
	}
	b.ReportMetric(float64(bound.Milliseconds()), "lower-bound-ms")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(bound.Milliseconds()), "x-lower-bound")
}
