package jobrunner

import (
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
)

// batchEnv is what Batch sets for the second attempt of job job-1.
var batchEnv = []string{
	"AWS_BATCH_JOB_ID=job-1",
	"AWS_BATCH_JOB_ATTEMPT=2",
	"AWS_BATCH_JQ_NAME=batch-xray-queue",
	"AWS_BATCH_CE_NAME=batch-xray-ce",
}

func baseOptions(d *fakeDaemon, env ...string) Options {
	return Options{
		ServiceName: "BatchJob",
		SampleRate:  1,
		Version:     "v-test",
		Environ:     append([]string{"PATH=" + os.Getenv("PATH"), "AWS_XRAY_DAEMON_ADDRESS=" + d.addr()}, env...),
		Stdin:       strings.NewReader(""),
		Stdout:      newSyncBuffer(),
		Stderr:      newSyncBuffer(),
		Signals:     make(chan os.Signal, 1),
	}
}

// s3Config reaches the fake S3 at endpoint with dummy credentials, and counts
// on the job instrumenting a copy, not this config.
func s3Config(t *testing.T, endpoint string) func(context.Context) (aws.Config, error) {
	return func(ctx context.Context) (aws.Config, error) {
		cfg, err := config.LoadDefaultConfig(ctx,
			config.WithRegion("us-east-1"),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
			config.WithBaseEndpoint(endpoint),
			config.WithRetryMaxAttempts(1),
		)
		if err != nil {
			t.Errorf("load config: %v", err)
		}
		return cfg, err
	}
}

func hostOf(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestSampleWork(t *testing.T) {
	tests := []struct {
		name      string
		paths     []string
		s3Status  int
		wantCode  int
		wantErr   string
		wantPuts  map[string]string
		wantFetch []bool // error flag of each fetch; fault is checked from wantFault
		wantFault bool
		wantError bool
		// failing step and the exception its subsegment carries
		failStep, failMsg string
	}{
		{
			name:     "two URLs fetched and uploaded",
			paths:    []string{"/ok/a.txt?token=secret", "/ok/b.bin"},
			wantPuts: map[string]string{"/stack-bucket/jobs/job-1/1-a.txt": "body of a.txt", "/stack-bucket/jobs/job-1/2-b.bin": "body of b.bin"},
		},
		{
			name:      "a 404 is an error and stops the job",
			paths:     []string{"/status/404", "/ok/never"},
			wantCode:  1,
			wantErr:   "404 Not Found",
			wantError: true,
			failStep:  "fetch", failMsg: "404 Not Found",
		},
		{
			name:      "a 500 is a fault",
			paths:     []string{"/status/500"},
			wantCode:  1,
			wantErr:   "500 Internal Server Error",
			wantFault: true,
			failStep:  "fetch", failMsg: "500 Internal Server Error",
		},
		{
			name:      "S3 refusing the upload is an error",
			paths:     []string{"/ok/a.txt"},
			s3Status:  403,
			wantCode:  1,
			wantErr:   "AccessDenied",
			wantError: true,
			failStep:  "upload", failMsg: "AccessDenied",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t)
			srv, _ := startOrigin(t)
			s3 := &fakeS3{status: tc.s3Status}
			s3srv := httptest.NewServer(s3)
			t.Cleanup(s3srv.Close)

			o := baseOptions(d, batchEnv...)
			o.JobName = "nightly"
			o.Bucket = "stack-bucket"
			for _, p := range tc.paths {
				o.URLs = append(o.URLs, srv.URL+p)
			}
			var given aws.Config
			load := s3Config(t, s3srv.URL)
			o.AWSConfig = func(ctx context.Context) (aws.Config, error) {
				cfg, err := load(ctx)
				given = cfg
				return cfg, err
			}

			err := Run(context.Background(), o)
			if got := exitCode(err); got != tc.wantCode {
				t.Fatalf("exit code %d (err %v), want %d", got, err, tc.wantCode)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err = %v, want it to mention %q", err, tc.wantErr)
			}
			if err == nil && len(given.APIOptions) != 0 {
				t.Errorf("the caller's config was instrumented: %d API options", len(given.APIOptions))
			}
			if diff := cmp.Diff(tc.wantPuts, s3.stored(), cmpEmptyMap); diff != "" {
				t.Errorf("objects in S3 (-want +got):\n%s", diff)
			}

			tr := d.trace(t)
			root := tr.root
			if root.Name != "BatchJob" || root.InProgress || root.EndTime == 0 {
				t.Errorf("root segment %q in_progress=%v end=%v, want BatchJob closed", root.Name, root.InProgress, root.EndTime)
			}
			wantAnn := map[string]any{
				"job_id": "job-1", "job_name": "nightly", "job_queue": "batch-xray-queue",
				"compute_environment": "batch-xray-ce", "attempt": float64(2),
			}
			if diff := cmp.Diff(wantAnn, root.Annotations); diff != "" {
				t.Errorf("annotations (-want +got):\n%s", diff)
			}
			if got := root.Metadata["batchxray"]["version"]; got != "v-test" {
				t.Errorf("metadata version = %v", got)
			}
			wantEnv := map[string]any{"AWS_BATCH_JOB_ID": "job-1", "AWS_BATCH_JOB_ATTEMPT": "2", "AWS_BATCH_JQ_NAME": "batch-xray-queue", "AWS_BATCH_CE_NAME": "batch-xray-ce"}
			if diff := cmp.Diff(wantEnv, root.Metadata["batchxray"]["environment"]); diff != "" {
				t.Errorf("metadata environment (-want +got):\n%s", diff)
			}
			if root.Error != tc.wantError || root.Fault != tc.wantFault {
				t.Errorf("root error=%v fault=%v, want %v %v", root.Error, root.Fault, tc.wantError, tc.wantFault)
			}
			if strings.Contains(tr.raw, "secret") {
				t.Errorf("the trace holds the URL's query:\n%s", tr.raw)
			}
			for _, d := range tr.all {
				if d.InProgress {
					t.Errorf("%s is still in progress", d.Name)
				}
			}

			// Every fetch has the HTTP subsegment of xray.Client under it.
			fetches := tr.named("fetch")
			for _, f := range fetches {
				kids := tr.children(f.ID)
				if len(kids) != 1 || kids[0].Name != hostOf(t, srv.URL) || kids[0].HTTP == nil {
					t.Fatalf("fetch children = %+v, want one HTTP subsegment named after the host", kids)
				}
				h := kids[0]
				if strings.Contains(h.HTTP.Request.URL, "?") || !strings.HasPrefix(h.HTTP.Request.URL, srv.URL+"/") || h.HTTP.Request.Method != "GET" {
					t.Errorf("HTTP subsegment request = %+v, want a GET of a URL without its query", h.HTTP.Request)
				}
				if h.Namespace != "remote" {
					t.Errorf("HTTP subsegment namespace %q, want remote", h.Namespace)
				}
				status := h.HTTP.Response.Status
				if (status >= 400 && status < 500) != h.Error || (status >= 500) != h.Fault {
					t.Errorf("HTTP subsegment status %d error=%v fault=%v", status, h.Error, h.Fault)
				}
			}
			uploads := tr.named("upload")
			for _, u := range uploads {
				kids := tr.children(u.ID)
				if len(kids) != 1 || kids[0].Name != "S3" {
					t.Fatalf("upload children = %+v, want the S3 subsegment", kids)
				}
				aws := kids[0].AWS
				want := map[string]any{"operation": "PutObject", "bucket_name": "stack-bucket", "request_id": "REQ-LOCAL-1", "region": "us-east-1"}
				for k, v := range want {
					if aws[k] != v {
						t.Errorf("S3 subsegment aws.%s = %v, want %v", k, aws[k], v)
					}
				}
			}
			wantUploads := len(tc.wantPuts)
			if tc.failStep == "upload" {
				wantUploads = 1
			}
			if len(uploads) != wantUploads {
				t.Errorf("%d upload subsegments, want %d", len(uploads), wantUploads)
			}

			if tc.failStep == "" {
				if len(fetches) != len(tc.paths) {
					t.Errorf("%d fetch subsegments, want %d", len(fetches), len(tc.paths))
				}
				for _, d := range tr.all {
					if d.Error || d.Fault {
						t.Errorf("%s is marked error=%v fault=%v", d.Name, d.Error, d.Fault)
					}
				}
				return
			}
			steps := tr.named(tc.failStep)
			failed := steps[len(steps)-1]
			if failed.Error != tc.wantError || failed.Fault != tc.wantFault || !strings.Contains(failed.message(), tc.failMsg) {
				t.Errorf("%s subsegment error=%v fault=%v exception %q, want %v %v %q", tc.failStep, failed.Error, failed.Fault, failed.message(), tc.wantError, tc.wantFault, tc.failMsg)
			}
			if !strings.Contains(root.message(), tc.failMsg) {
				t.Errorf("root exception %q, want it to mention %q", root.message(), tc.failMsg)
			}
		})
	}
}

var cmpEmptyMap = cmp.FilterValues(func(a, b map[string]string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestSampleTransportFailureIsAFault(t *testing.T) {
	d := startDaemon(t)
	srv, _ := startOrigin(t)
	dead := srv.URL + "/ok/x?token=secret"
	srv.Close() // nothing listens there any more

	o := baseOptions(d, batchEnv...)
	o.URLs = []string{dead}
	o.NoUpload = true
	err := Run(context.Background(), o)
	if exitCode(err) != 1 {
		t.Fatalf("err = %v, want a failure", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the URL's query: %v", err)
	}
	tr := d.trace(t)
	f := tr.named("fetch")[0]
	if !f.Fault || f.Error || f.message() == "" {
		t.Errorf("fetch error=%v fault=%v exception %q, want a fault with the reason", f.Error, f.Fault, f.message())
	}
	if !tr.root.Fault {
		t.Errorf("root is not a fault")
	}
}

// Every step is streamed as it ends, and the SDK keeps at most 20
// subsegments in any one document; with many steps, all must arrive once.
func TestManySubsegmentsArriveWhole(t *testing.T) {
	d := startDaemon(t)
	srv, _ := startOrigin(t)
	o := baseOptions(d, batchEnv...)
	o.NoUpload = true
	const n = 12
	for i := range n {
		o.URLs = append(o.URLs, srv.URL+"/ok/"+string(rune('a'+i)))
	}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	tr := d.trace(t)
	if tr.docs < 2 {
		t.Errorf("%d documents, want the steps streamed", tr.docs)
	}
	if got := len(tr.all) - 1; got <= 20 {
		t.Errorf("%d subsegments in all, want more than 20 for this test to mean anything", got)
	}
	if got := len(tr.named("fetch")); got != n {
		t.Errorf("%d fetch subsegments arrived, want %d", got, n)
	}
	for _, f := range tr.named("fetch") {
		if kids := tr.children(f.ID); len(kids) != 1 {
			t.Errorf("fetch %s has %d children, want its HTTP subsegment", f.ID, len(kids))
		}
	}
	for id, doc := range tr.all {
		if doc.InProgress {
			t.Errorf("%s (%s) arrived in progress", doc.Name, id)
		}
	}
}

func TestSampleSIGTERM(t *testing.T) {
	d := startDaemon(t)
	srv, origin := startOrigin(t)
	sigs := make(chan os.Signal, 1)
	o := baseOptions(d, batchEnv...)
	o.URLs = []string{srv.URL + "/hang"}
	o.NoUpload = true
	o.Signals = sigs

	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), o) }()
	<-origin.arrived
	sigs <- syscall.SIGTERM
	err := <-done
	if got := exitCode(err); got != 143 || err.Error() != "terminated" {
		t.Fatalf("err = %v (exit %d), want terminated, exit 143", err, got)
	}
	tr := d.trace(t)
	f := tr.named("fetch")[0]
	if !f.Fault || f.message() != "terminated" || f.InProgress {
		t.Errorf("fetch fault=%v exception %q in_progress=%v, want a closed fault, cause terminated", f.Fault, f.message(), f.InProgress)
	}
	if !tr.root.Fault || tr.root.message() != "terminated" {
		t.Errorf("root fault=%v exception %q, want a fault, cause terminated", tr.root.Fault, tr.root.message())
	}
	// xray.Client's own subsegments, the HTTP call's "response" among them,
	// are closed too.
	if len(tr.all) < 4 {
		t.Errorf("%d documents, want the HTTP call's subsegments too", len(tr.all))
	}
	for _, d := range tr.all {
		if d.InProgress || d.EndTime == 0 {
			t.Errorf("%s is still in progress", d.Name)
		}
	}
}
