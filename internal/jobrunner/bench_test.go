package jobrunner

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchOTelTracer is an OpenTelemetry tracer exporting to a loopback
// OTLP/HTTP endpoint that drains whatever arrives.
func benchOTelTracer(b *testing.B) *otelTracer {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(srv.Close)
	tr, err := newOTelTracer(srv.URL+"/v1/traces", nil, false, 1, "BatchJob", "bench", func(format string, a ...any) { b.Logf(format, a...) })
	if err != nil {
		b.Fatal(err)
	}
	return tr
}

// BenchmarkChildSpan is one traced step with each tracer side by side: a
// child begun, given a metadata value, and ended, which sends it (a UDP
// datagram for the X-Ray SDK; a place in the batch the exporter sends in
// the background for OpenTelemetry).
func BenchmarkChildSpan(b *testing.B) {
	for _, name := range []string{TracerXRay, TracerOTel} {
		b.Run("tracer="+name, func(b *testing.B) {
			var tr tracer
			if name == TracerXRay {
				tr = benchTracer(b)
			} else {
				tr = benchOTelTracer(b)
			}
			ctx, root := tr.Begin(context.Background(), "BatchJob", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				_, sp := tr.BeginChild(ctx, "step")
				sp.Metadata("n", i)
				sp.End(nil)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/span")
			root.End(nil)
		})
	}
}
