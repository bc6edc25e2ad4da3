package traces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
	"github.com/batchxray/batchxray/internal/traceid"
)

const benchLatency = 50 * time.Millisecond

// BenchmarkLookupByIDvsSearch: `trace` of one job and of a 1,000-child
// array, by the ID it carries against by searching its annotation, in both
// X-Ray modes, against the stand-in with 50 ms a call. Batch is a small
// in-memory fake, so only X-Ray's calls are counted and paid for. It
// reports the X-Ray calls and their lower bound in wall time, calls ÷
// concurrency × latency.
func BenchmarkLookupByIDvsSearch(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  xraysvc.Config
	}{
		{"xray", xraysvc.Config{}},
		{"cloudwatchlogs-1pct", xraysvc.Config{Destination: "CloudWatchLogs", IndexingPercentage: 1, IndexingSeed: 7}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			_, cfg := localawstest.Start(b, localaws.Options{XRay: mode.cfg, Latency: benchLatency})
			xc := xray.NewFromConfig(cfg)
			seed := func(trace, jobID string, index int) map[string]any {
				id, _ := traceid.NewSegmentID(nil)
				ann := map[string]any{"job_id": jobID, "attempt": 1}
				if index >= 0 {
					ann["array_job_id"], ann["array_index"] = "arr", index
				}
				return map[string]any{"name": "BatchJob", "id": id, "trace_id": trace, "start_time": byIDStart + 1, "end_time": byIDStart + 4, "annotations": ann}
			}
			jobTrace := fmt.Sprintf("1-%08x-%024x", byIDStart, 1)
			arrTrace := fmt.Sprintf("1-%08x-%024x", byIDStart, 2)
			docs := []map[string]any{seed(jobTrace, "job", -1)}
			job := tagged("job", jobTrace, 1)
			parent := tagged("arr", arrTrace, 0)
			parent.ArrayProperties = &batchtypes.ArrayPropertiesDetail{Size: aws.Int32(1000)}
			details := []batchtypes.JobDetail{job, parent}
			for i := range 1000 {
				ct, _ := traceid.Child(arrTrace, i)
				docs = append(docs, seed(ct, "arr:"+strconv.Itoa(i), i))
				c := tagged("arr:"+strconv.Itoa(i), "", 1)
				c.Tags, c.ArrayProperties = nil, &batchtypes.ArrayPropertiesDetail{Index: aws.Int32(int32(i))}
				details = append(details, c)
			}
			for i := 0; i < len(docs); i += 50 {
				var in xray.PutTraceSegmentsInput
				for _, d := range docs[i:min(i+50, len(docs))] {
					raw, _ := json.Marshal(d)
					in.TraceSegmentDocuments = append(in.TraceSegmentDocuments, string(raw))
				}
				if _, err := xc.PutTraceSegments(context.Background(), &in); err != nil {
					b.Fatal(err)
				}
			}
			untag := func(ds []batchtypes.JobDetail) []batchtypes.JobDetail {
				out := make([]batchtypes.JobDetail, len(ds))
				for i, d := range ds {
					d.Tags = nil
					out[i] = d
				}
				return out
			}
			for _, c := range []struct {
				name, id string
				details  []batchtypes.JobDetail
			}{
				{"job/by-id", "job", details},
				{"job/by-search", "job", untag(details)},
				{"array-1000/by-id", "arr", details},
				{"array-1000/by-search", "arr", untag(details)},
			} {
				b.Run(c.name, func(b *testing.B) {
					cc := &countingXRay{Client: xc}
					bc := &describeOnly{jobs: c.details}
					f := NewFinder(cc, clockwork.NewRealClock())
					f.MinDelay, f.MaxDelay = benchLatency, 4*benchLatency
					start := time.Now()
					for b.Loop() {
						if _, err := Lookup(context.Background(), bc, f, c.id, LookupOptions{}); err != nil {
							var nf *NotFoundError
							if !errors.As(err, &nf) {
								b.Fatal(err)
							}
						}
					}
					wall := time.Since(start) / time.Duration(b.N)
					calls := float64(cc.total()) / float64(b.N)
					bound := time.Duration(calls / float64(f.Concurrency) * float64(benchLatency))
					b.ReportMetric(calls, "calls/op")
					b.ReportMetric(float64(bound.Milliseconds()), "bound-ms/op")
					b.ReportMetric(float64(wall)/float64(bound), "wall/bound")
				})
			}
		})
	}
}
