package xray

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// benchBase is the epoch second the benchmarks' traces start at.
const benchBase = 1767225600

// jobSegment is a job's segment as the X-Ray SDK sends it: the BatchJob
// segment with its annotations and three subsegments, about 900 bytes.
// Traces start two a second; one in a hundred has a faulted subsegment.
func jobSegment(i int) []byte {
	tr := fmt.Sprintf("1-%08x-%024x", benchBase+i/2, i)
	start := float64(benchBase) + float64(i)/2
	return fmt.Appendf(nil, `{"name":"BatchJob","id":"%016x","trace_id":"%s","start_time":%.3f,"end_time":%.3f,`+
		`"origin":"AWS::ECS::Container","annotations":{"job_id":"job-%d","job_name":"sample","job_queue":"batch-xray-queue",`+
		`"compute_environment":"batch-xray-ce","attempt":%d},"aws":{"xray":{"sdk":"X-Ray for Go","sdk_version":"2.0.3"}},`+
		`"subsegments":[{"name":"download","id":"%016x","start_time":%.3f,"end_time":%.3f},`+
		`{"name":"S3","id":"%016x","namespace":"aws","start_time":%.3f,"end_time":%.3f,"http":{"response":{"status":200}},"aws":{"operation":"PutObject"}},`+
		`{"name":"work","id":"%016x","start_time":%.3f,"end_time":%.3f,"fault":%t}]}`,
		i+1, tr, start, start+2.5, i, 1+i%3,
		1<<40+i, start+0.1, start+0.5, 2<<40+i, start+0.6, start+0.9, 3<<40+i, start+1, start+2.4, i%100 == 0)
}

func benchService() *Service {
	return New(awsproto.Env{Account: "000000000000", Region: "us-east-1", Clock: clockwork.NewRealClock()}, Config{})
}

// BenchmarkDaemonIngest sends b.N segment datagrams over loopback UDP and
// waits until the daemon has stored them all. The sender keeps at most a
// window of datagrams in flight, because the kernel drops what overflows a
// socket buffer: the figure is what the daemon sustains.
func BenchmarkDaemonIngest(b *testing.B) {
	svc := benchService()
	d, err := svc.StartDaemon("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	conn, err := net.Dial("udp", d.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const window = 512
	header := []byte(`{"format": "json", "version": 1}` + "\n")
	b.ReportAllocs()
	b.ResetTimer()
	began := time.Now()
	for i := range b.N {
		if i >= window {
			if err := svc.WaitIngested(ctx, int64(i-window)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := conn.Write(append(header, jobSegment(i)...)); err != nil {
			b.Fatal(err)
		}
	}
	if err := svc.WaitIngested(ctx, int64(b.N)); err != nil {
		b.Fatalf("%v (daemon %+v)", err, d.Stats())
	}
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "segments/s")
}

// BenchmarkGetTraceSummariesFilter answers GetTraceSummaries requests over
// 100,000 stored job traces through the service's HTTP handler (request
// decoding, the query, response encoding; no network, no SDK). A selective
// filter reads the whole window to find one trace; the others stop at the
// first page of 100.
func BenchmarkGetTraceSummariesFilter(b *testing.B) {
	const traces = 100_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	svc := benchService()
	for i := range traces {
		if err := svc.Ingest(jobSegment(i)); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	storeBytes := float64(after.HeapAlloc) - float64(before.HeapAlloc)
	for _, bc := range []struct {
		name, filter string
		want         int
	}{
		{"selective", `annotation.job_id = \"job-77777\"`, 1},
		{"compound", `fault and annotation.attempt >= 2 and duration > 2`, 100},
		{"broad", `annotation.job_queue = \"batch-xray-queue\"`, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := fmt.Sprintf(`{"StartTime":%d,"EndTime":%d,"FilterExpression":"%s"}`, benchBase-1, benchBase+traces/2+1, bc.filter)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				svc.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/TraceSummaries", strings.NewReader(body)))
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				if n := strings.Count(rec.Body.String(), `"Revision"`); n != bc.want {
					b.Fatalf("%d summaries, want %d", n, bc.want)
				}
			}
			b.ReportMetric(storeBytes/(1<<20), "store-MiB")
			b.ReportMetric(storeBytes/traces, "store-B/trace")
		})
	}
}

// BenchmarkStreamedSubsegments stores b.N subsegments sent on their own
// into one trace, as a long job's SDK streams them, and then summarizes the
// trace once: the cost per subsegment must stay flat as the trace grows.
func BenchmarkStreamedSubsegments(b *testing.B) {
	svc := benchService()
	tr := fmt.Sprintf("1-%08x-%024x", benchBase, 1)
	if err := svc.Ingest(fmt.Appendf(nil, `{"name":"BatchJob","id":"a000000000000000","trace_id":"%s","start_time":%d,"in_progress":true}`, tr, benchBase)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d := fmt.Appendf(nil, `{"name":"S3","id":"%016x","trace_id":"%s","type":"subsegment","parent_id":"a000000000000000","namespace":"aws","start_time":%d.1,"end_time":%d.2,"annotations":{"n":%d}}`,
			i+1, tr, benchBase, benchBase, i%50)
		if err := svc.Ingest(d); err != nil {
			b.Fatal(err)
		}
	}
	from, to := float64(benchBase-1), float64(benchBase+1)
	if _, err := svc.traceSummaries(getTraceSummariesInput{StartTime: &from, EndTime: &to}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBatchGetTracesInferred reads five job traces a call, each with
// an S3 subsegment, so that every read adds an inferred segment (the
// documents are decoded and encoded again); the figure is per call.
func BenchmarkBatchGetTracesInferred(b *testing.B) {
	svc := benchService()
	var ids []string
	for i := range 5 {
		if err := svc.Ingest(jobSegment(i)); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, fmt.Sprintf("1-%08x-%024x", benchBase+i/2, i))
	}
	body := `{"TraceIds":["` + strings.Join(ids, `","`) + `"]}`
	b.ReportAllocs()
	for b.Loop() {
		out, err := svc.batchGetTraces(httptest.NewRequest(http.MethodPost, "/Traces", strings.NewReader(body)))
		if err != nil {
			b.Fatal(err)
		}
		if n := len(out.(struct {
			Traces              []traceOut
			UnprocessedTraceIds []string
		}).Traces); n != 5 {
			b.Fatalf("%d traces, want 5", n)
		}
	}
}
