package jobrunner

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/traces"
)

// sampleJobTrace runs the sample job with the named tracer against a fresh
// stand-in, as `batchxray local` runs it (the X-Ray SDK to its UDP daemon,
// OpenTelemetry to its host-agent OTLP receiver), finds the job's trace by
// annotation.job_id and returns it as BatchGetTraces gave it, with the
// stand-in's host and port, which the HTTP call is named by.
func sampleJobTrace(t *testing.T, tracerName string) (*traces.Trace, string) {
	t.Helper()
	srv, cfg := localawstest.Start(t, localaws.Options{})
	otlp, err := srv.StartOTLP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s3.NewFromConfig(cfg).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("stack-bucket")}); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	o := Options{
		ServiceName: "BatchJob", SampleRate: 1, Version: "v-test", Tracer: tracerName,
		URLs:      []string{srv.Endpoint() + localaws.SamplePath + "?delay=0s"},
		Bucket:    "stack-bucket",
		AWSConfig: func(context.Context) (aws.Config, error) { return cfg, nil },
		Environ: []string{
			"AWS_XRAY_DAEMON_ADDRESS=" + srv.DaemonAddr(), "OTEL_EXPORTER_OTLP_ENDPOINT=http://" + otlp,
			"AWS_BATCH_JOB_ID=same-1", "AWS_BATCH_JOB_ATTEMPT=1", "AWS_BATCH_JQ_NAME=q", "AWS_BATCH_CE_NAME=ce",
		},
		Stdin: strings.NewReader(""), Stdout: newSyncBuffer(), Stderr: newSyncBuffer(), Signals: make(chan os.Signal),
	}
	if err := Run(ctx, o); err != nil {
		t.Fatalf("job: %v\n%s", err, o.Stderr)
	}
	// The X-Ray SDK sends 4 documents (the root in progress, fetch, upload,
	// the root); OpenTelemetry's 9 spans are stored before Run returns.
	if err := srv.XRay().WaitIngested(ctx, 4); err != nil {
		t.Fatal(err)
	}
	id, docs := jobTraceDocs(ctx, t, cfg, "same-1", started)
	tr, err := traces.ParseTrace(id, docs)
	if err != nil {
		t.Fatal(err)
	}
	return tr, strings.TrimPrefix(srv.Endpoint(), "http://")
}

// fixTrace replaces the trace's IDs and times with ones that depend only on
// its shape: each span starts a tick after the previous span began or ended
// and ends a tick after its last child, in the order the tree holds them.
// The stand-in's host, a free port, becomes 127.0.0.1:4566.
func fixTrace(tr *traces.Trace, host string, base float64) {
	tr.ID = "1-6b000000-000000000000000000000001"
	n, clock := 0, base
	var walk func(s *traces.Span)
	walk = func(s *traces.Span) {
		n++
		s.ID = fmt.Sprintf("%016x", n)
		for _, f := range []*string{&s.Name, &s.Service, &s.Host} {
			*f = strings.ReplaceAll(*f, host, "127.0.0.1:4566")
		}
		s.Start = clock
		clock += 0.1
		for _, c := range s.Children {
			walk(c)
		}
		s.End = clock
		clock += 0.1
	}
	for _, r := range tr.Roots {
		walk(r)
	}
}

// The same sample job traced with the X-Ray SDK and with OpenTelemetry draws
// the same waterfall, through AWS's OpenTelemetry-to-X-Ray mapping in the
// stand-in: one golden for both. What the mapping cannot express, and the
// drawing does not show, remains different in the documents:
//   - metadata: the X-Ray SDK keeps namespaces (batchxray.url); OTLP
//     attributes all land in the default namespace, keyed batchxray.url;
//   - the X-Ray SDK's segment carries aws.xray (SDK name and version) and
//     service (runtime); OpenTelemetry's carries neither;
//   - the S3 call's bucket_name: recordS3Bucket sets it for the X-Ray SDK,
//     while the mapping reads no S3 attribute (aws.s3.bucket is metadata).
func TestSameWaterfallEitherTracer(t *testing.T) {
	const base = 1796000000.0
	job := jobs.Job{
		ID: "same-1", Name: "sample", Queue: "q", Status: jobs.Succeeded,
		CreatedAt:   time.Unix(base-5, 0),
		StartedAt:   time.Unix(base, 0),
		StoppedAt:   time.Unix(base+3, 0),
		Attempts:    []jobs.Attempt{{StartedAt: time.Unix(base, 0), StoppedAt: time.Unix(base+3, 0), ExitCode: new(int)}},
		MaxAttempts: 1,
	}
	drawn := map[string]string{}
	for _, name := range []string{TracerXRay, TracerOTel} {
		t.Run(name, func(t *testing.T) {
			tr, host := sampleJobTrace(t, name)
			checkKnownDifferences(t, name, tr)
			checkSubsegmentCount(t, name, tr)
			fixTrace(tr, host, base)
			got := traces.Render(traces.View{Job: job, Traces: []*traces.Trace{tr}}, traces.Options{Width: 100, Now: time.Unix(base+60, 0)})
			drawn[name] = got
			golden.AssertString(t, "sample-waterfall.golden", got)
		})
	}
	if drawn[TracerXRay] != drawn[TracerOTel] {
		t.Errorf("the two tracers draw different waterfalls:\n--- xray\n%s\n--- otel\n%s", drawn[TracerXRay], drawn[TracerOTel])
	}
}

// checkKnownDifferences checks the differences TestSameWaterfallEitherTracer
// names, so that the list stays true: the S3 call's bucket_name and the
// segment's aws.xray come from the X-Ray SDK alone.
func checkKnownDifferences(t *testing.T, tracerName string, tr *traces.Trace) {
	t.Helper()
	var bucket, sdk bool
	var walk func(d traces.Document)
	walk = func(d traces.Document) {
		if d.Name == "S3" && !d.Inferred && d.AWS["bucket_name"] != nil {
			bucket = true
		}
		if d.Name == "BatchJob" && d.AWS["xray"] != nil {
			sdk = true
		}
		for _, c := range d.Subsegments {
			walk(c)
		}
	}
	for _, d := range tr.Documents {
		walk(d)
	}
	if want := tracerName == TracerXRay; bucket != want || sdk != want {
		t.Errorf("%s: S3 bucket_name %v, segment aws.xray %v; want both %v", tracerName, bucket, sdk, want)
	}
}

// checkSubsegmentCount checks that the job segment, as X-Ray returns it,
// counts the subsegments its trace's tree holds, which is how trace knows
// it waits for no more: the X-Ray SDK writes the count in its batchxray
// metadata namespace; OpenTelemetry's root span carries it as the attribute
// batchxray.subsegments, which the mapping keeps in the default namespace.
func checkSubsegmentCount(t *testing.T, tracerName string, tr *traces.Trace) {
	t.Helper()
	var seg *traces.Span
	tr.Walk(func(s *traces.Span, _ int) {
		if s.Segment && s.Name == "BatchJob" {
			seg = s
		}
	})
	if seg == nil {
		t.Fatalf("%s: no BatchJob segment", tracerName)
	}
	var subs func(*traces.Span) int
	subs = func(s *traces.Span) int {
		n := 0
		for _, c := range s.Children {
			if !c.Segment {
				n += 1 + subs(c)
			}
		}
		return n
	}
	var count any
	for _, d := range tr.Documents {
		if d.ID != seg.ID {
			continue
		}
		if tracerName == TracerXRay {
			count = d.Metadata[metadataNamespace][subsegmentsKey]
		} else {
			count = d.Metadata["default"][metadataNamespace+"."+subsegmentsKey]
		}
	}
	if want := subs(seg); count != float64(want) {
		t.Errorf("%s: the job segment counts %v subsegments, its tree holds %d", tracerName, count, want)
	}
}
