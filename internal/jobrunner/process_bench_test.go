package jobrunner

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// BenchmarkJobTrueOverTrue is the whole process with each tracer side by
// side: the built binary's `batchxray job -- true` against `true` alone, run
// by turns, the job tracing to the stand-in's X-Ray daemon (UDP) or its
// host-agent OTLP receiver. ratio is their wall times' quotient; for a
// command that does nothing it is all overhead: start-up, the tracer, the
// flush. The CPU time (user and system) of each is reported too: on a
// loaded machine the wall times say more about the load than the job. It
// fails if a job's trace did not arrive or the job warned.
func BenchmarkJobTrueOverTrue(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "batchxray")
	if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, "github.com/batchxray/batchxray/cmd/batchxray").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	srv, _ := localawstest.Start(b, localaws.Options{})
	otlp, err := srv.StartOTLP("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	for _, tracerName := range []string{TracerXRay, TracerOTel} {
		b.Run("tracer="+tracerName, func(b *testing.B) {
			env := append(os.Environ(), "BATCHXRAY_TRACER="+tracerName,
				"AWS_XRAY_DAEMON_ADDRESS="+srv.DaemonAddr(), "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+otlp,
				"AWS_BATCH_JOB_ID=bench", "AWS_REGION=us-east-1")
			var directCPU, wrappedCPU time.Duration
			run := func(cpu *time.Duration, argv ...string) time.Duration {
				c := exec.Command(argv[0], argv[1:]...)
				c.Env = env
				var stderr bytes.Buffer
				c.Stderr = &stderr
				start := time.Now()
				if err := c.Run(); err != nil {
					b.Fatalf("%v: %v\n%s", argv, err, &stderr)
				}
				took := time.Since(start)
				*cpu += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
				if strings.Contains(stderr.String(), "warning") {
					b.Fatalf("%v warned:\n%s", argv, &stderr)
				}
				return took
			}
			before := srv.XRay().Ingested()
			var direct, wrapped time.Duration
			b.ResetTimer()
			for range b.N {
				direct += run(&directCPU, "true")
				wrapped += run(&wrappedCPU, bin, "job", "--", "true")
			}
			b.StopTimer()
			// Each job sends at least its segment and the command's
			// subsegment; the X-Ray SDK's arrive over UDP, a moment later.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.XRay().WaitIngested(ctx, before+2*int64(b.N)); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(wrapped.Nanoseconds())/float64(b.N)/1e6, "job-ms/op")
			b.ReportMetric(float64(direct.Nanoseconds())/float64(b.N)/1e6, "true-ms/op")
			b.ReportMetric(float64(wrapped)/float64(direct), "ratio")
			b.ReportMetric(float64(wrappedCPU.Nanoseconds())/float64(b.N)/1e6, "job-cpu-ms/op")
			b.ReportMetric(float64(directCPU.Nanoseconds())/float64(b.N)/1e6, "true-cpu-ms/op")
		})
	}
}
