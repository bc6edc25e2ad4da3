package jobrunner

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// The job against the local stand-in over real HTTP and UDP, as it runs
// under `batchxray local`: its object is in the bucket afterwards, and its
// trace is found by annotation.job_id.
func TestJobAgainstTheStandIn(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s3c := s3.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("stack-bucket")}); err != nil {
		t.Fatal(err)
	}

	started := time.Now()
	o := Options{
		ServiceName: "BatchJob",
		SampleRate:  1,
		Version:     "v-test",
		URLs:        []string{srv.Endpoint() + localaws.SamplePath + "?delay=0s"},
		Bucket:      "stack-bucket",
		AWSConfig:   func(context.Context) (aws.Config, error) { return cfg, nil },
		Environ:     []string{"AWS_XRAY_DAEMON_ADDRESS=" + srv.DaemonAddr(), "AWS_BATCH_JOB_ID=integ-1", "AWS_BATCH_JOB_ATTEMPT=1", "AWS_BATCH_JQ_NAME=q"},
		Stdin:       strings.NewReader(""),
		Stdout:      newSyncBuffer(),
		Stderr:      newSyncBuffer(),
		Signals:     make(chan os.Signal),
	}
	if err := Run(ctx, o); err != nil {
		t.Fatalf("job: %v\n%s", err, o.Stderr)
	}
	if got := o.Stderr.(*syncBuffer).String(); strings.Contains(got, "warning") {
		t.Errorf("the job warns though the stand-in's daemon listens:\n%s", got)
	}

	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("stack-bucket"), Key: aws.String("jobs/integ-1/1-sample")})
	if err != nil {
		t.Fatalf("the job's object: %v", err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !strings.Contains(string(body), "sample page of batchxray local") {
		t.Errorf("object body = %q, want the sample page", body)
	}

	// The root in progress, the fetch and the upload streamed as they
	// finished, and the complete root.
	if err := srv.XRay().WaitIngested(ctx, 4); err != nil {
		t.Fatal(err)
	}
	_, stored := jobTraceDocs(ctx, t, cfg, "integ-1", started)
	var docs strings.Builder
	for _, d := range stored {
		docs.WriteString(d)
	}
	for _, want := range []string{`"name":"BatchJob"`, `"name":"fetch"`, `"name":"upload"`, `"operation":"PutObject"`, `"bucket_name":"stack-bucket"`} {
		if !strings.Contains(docs.String(), want) {
			t.Errorf("the stored trace lacks %s:\n%s", want, docs.String())
		}
	}
}

// jobTraceDocs finds the one trace annotated job_id = jobID since started,
// as trace finds a job's trace by search, and returns its ID and documents
// as BatchGetTraces gave them.
func jobTraceDocs(ctx context.Context, t *testing.T, cfg aws.Config, jobID string, started time.Time) (string, []string) {
	t.Helper()
	xc := xray.NewFromConfig(cfg)
	sums, err := xc.GetTraceSummaries(ctx, &xray.GetTraceSummariesInput{
		StartTime:        aws.Time(started.Add(-time.Minute)),
		EndTime:          aws.Time(time.Now().Add(time.Minute)),
		FilterExpression: aws.String(`annotation.job_id = "` + jobID + `"`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums.TraceSummaries) != 1 {
		t.Fatalf("%d traces found by annotation.job_id = %q, want 1", len(sums.TraceSummaries), jobID)
	}
	id := aws.ToString(sums.TraceSummaries[0].Id)
	out, err := xc.BatchGetTraces(ctx, &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 {
		t.Fatalf("BatchGetTraces(%s): %d traces, want 1", id, len(out.Traces))
	}
	var docs []string
	for _, s := range out.Traces[0].Segments {
		docs = append(docs, aws.ToString(s.Document))
	}
	return id, docs
}
