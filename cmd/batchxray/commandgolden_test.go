package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/golden"
	"github.com/batchxray/batchxray/internal/ui"
)

// The whole outputs of status and trace are goldens. Their input is fixed
// (recorded AWS answers with a fixed job ID and fixed times) and served over
// real HTTP to the unmodified SDK, and the clocks are fixed, so the outputs
// are byte-exact.

// fixedJob is the job of testdata/xray/batchgettraces-job.json, as
// DescribeJobs answers for it.
const fixedJob = `{"jobs":[{"jobId":"8f2c6d1e-4b7a-4c1d-9e3f-2a5b6c7d8e9f","jobArn":"arn:aws:batch:us-east-1:000000000000:job/8f2c6d1e-4b7a-4c1d-9e3f-2a5b6c7d8e9f",
"jobName":"nightly-report","jobQueue":"arn:aws:batch:us-east-1:000000000000:job-queue/batch-xray-queue","status":"SUCCEEDED",
"jobDefinition":"arn:aws:batch:us-east-1:000000000000:job-definition/batch-xray-job:1",
"createdAt":1764040000000,"startedAt":1764040041200,"stoppedAt":1764040048100,
"retryStrategy":{"attempts":1},
"attempts":[{"startedAt":1764040041200,"stoppedAt":1764040048100,"container":{"exitCode":0,"logStreamName":"batch-xray-job/default/0a1b2c3d"}}],
"container":{"exitCode":0,"logStreamName":"batch-xray-job/default/0a1b2c3d"}}]}`

// noJobEvents is CloudWatch Logs' FilterLogEvents answer (the one call
// at / these tests script) for a job whose events were never recorded.
const noJobEvents = `{"events":[],"searchedLogStreams":[]}`

// fixedNow is when the outputs are made: an hour after the job stopped.
var fixedNow = time.UnixMilli(1764040048100).Add(time.Hour).UTC()

// fixedAWS serves one recorded answer per path and fails the test unless
// every one of them was asked for.
func fixedAWS(t *testing.T, answers map[string]string) aws.Config {
	t.Helper()
	var (
		mu    sync.Mutex
		asked = map[string]bool{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body, ok := answers[r.URL.Path]
		if !ok {
			t.Errorf("unexpected call %s %s", r.Method, r.URL.Path)
			http.Error(w, `{"message":"not scripted"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		asked[r.URL.Path] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		for path := range answers {
			if !asked[path] {
				t.Errorf("%s was scripted but never called", path)
			}
		}
	})
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(srv.URL),
		HTTPClient:   srv.Client(),
	}
}

// goldenFactory is a factory on buffers off a terminal at fixedNow.
func goldenFactory(cfg aws.Config, output string) (*factory, *lockedBuffer, *lockedBuffer) {
	ios, _, _, _ := ui.Test()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	ios.Out, ios.ErrOut = out, errOut
	f := &factory{
		IOStreams: ios,
		Now:       func() time.Time { return fixedNow },
		AWSConfig: func(context.Context) (aws.Config, error) { return cfg, nil },
		Globals:   &globalOptions{Output: output},
		Logger:    func() *slog.Logger { return slog.New(slog.DiscardHandler) },
	}
	return f, out, errOut
}

func TestStatusGolden(t *testing.T) {
	for _, output := range []string{outputText, outputJSON} {
		t.Run(output, func(t *testing.T) {
			cfg := fixedAWS(t, map[string]string{"/v1/describejobs": fixedJob, "/": noJobEvents})
			f, out, errOut := goldenFactory(cfg, output)
			err := runStatus(context.Background(), &statusOptions{f: f, ids: []string{"8f2c6d1e-4b7a-4c1d-9e3f-2a5b6c7d8e9f"}, once: true, maxWait: time.Minute, explainAfter: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			golden.AssertString(t, "status-once-"+output+".golden", "-- stdout --\n"+out.String()+"-- stderr --\n"+errOut.String())
		})
	}
}

func TestTraceGolden(t *testing.T) {
	traces, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xray", "batchgettraces-job.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{outputText, outputJSON} {
		t.Run(output, func(t *testing.T) {
			cfg := fixedAWS(t, map[string]string{
				"/v1/describejobs": fixedJob,
				"/TraceSummaries":  `{"TraceSummaries":[{"Id":"1-69251d69-3c1f5d7a9b2e4f6a8c0d1e2f"}]}`,
				"/Traces":          string(traces),
				"/":                noJobEvents,
			})
			f, out, errOut := goldenFactory(cfg, output)
			opts := &traceOptions{f: f, clock: clockwork.NewFakeClockAt(fixedNow), jobID: "8f2c6d1e-4b7a-4c1d-9e3f-2a5b6c7d8e9f"}
			if err := runTrace(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			golden.AssertString(t, "trace-"+output+".golden", "-- stdout --\n"+out.String()+"-- stderr --\n"+errOut.String())
		})
	}
}
