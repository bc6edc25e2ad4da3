package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/provision"
)

// quickBackoff keeps provisioning's retry budget but not its delays.
var quickBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })

// At 30% throttling up and down pass every time: five rounds on one
// stand-in, whose throttle answers every third or fourth call.
func TestUpDownThrottled(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond, ThrottleRate: 0.3})
	// The CLI's retryer (TestAWSConfigRetries), without its delays.
	cfg.Retryer, cfg.RetryMaxAttempts = provisioningRetryer(quickBackoff), 0
	ctx := context.Background()
	for i := range 5 {
		f, _, errOut := stackFactory(cfg, false, "")
		if err := runUp(ctx, upArgs(f)); err != nil {
			t.Fatalf("round %d: up: %v\n%s", i+1, err, errOut)
		}
		f, _, errOut = stackFactory(cfg, false, "")
		if err := runDown(ctx, &downOptions{f: f, yes: true, waits: fastWaits}); err != nil {
			t.Fatalf("round %d: down: %v\n%s", i+1, err, errOut)
		}
	}
	if n := len(srv.Calls()); n < 100 {
		t.Fatalf("%d calls reached the stand-in, want five rounds of up and down", n)
	}
}

// The CLI's AWS configuration retries with provisioning's budget.
func TestAWSConfigRetries(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_MAX_ATTEMPTS", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	cfg, err := loadAWSConfig(context.Background(), &globalOptions{Region: "us-east-1"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retryer == nil {
		t.Fatal("no retryer")
	}
	r := cfg.Retryer()
	if got := r.MaxAttempts(); got != provisionMaxAttempts {
		t.Errorf("max attempts = %d, want %d", got, provisionMaxAttempts)
	}
	// The SDK's default quota (500 tokens, 5 a retry) runs out at 100.
	for i := range 200 {
		if _, err := r.GetRetryToken(context.Background(), errors.New("x")); err != nil {
			t.Fatalf("retry %d: the retryer has a retry quota: %v", i+1, err)
		}
	}
}

// An endpoint answering a 404 that is not an AWS error (an HTML page, or
// nothing) is named as not implementing the operation.
func TestExplainNonAWS404(t *testing.T) {
	for name, body := range map[string]string{"html": "<html><body>404 Not Found</body></html>", "empty": ""} {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, body)
			}))
			defer ts.Close()
			t.Setenv("AWS_ENDPOINT_URL", ts.URL)
			cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
			_, err := xray.NewFromConfig(cfg).GetSamplingRules(context.Background(), &xray.GetSamplingRulesInput{})
			got := explainAWSError(err).Error()
			if want := ts.URL + " does not implement XRay GetSamplingRules"; !strings.HasPrefix(got, want) {
				t.Errorf("explained: %s\nwant it to start %q", got, want)
			}
		})
	}
}

// down lists the jobs still in the queue; on a terminal "n" keeps them
// and the stack, and --yes terminates them, saying how many.
func TestDownWithJobsInTheQueue(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
	ctx := context.Background()
	f, _, errOut := stackFactory(cfg, false, "")
	if err := runUp(ctx, upArgs(f)); err != nil {
		t.Fatalf("up: %v\n%s", err, errOut)
	}
	out, err := batch.NewFromConfig(cfg).SubmitJob(ctx, &batch.SubmitJobInput{
		JobName: aws.String("stuck"), JobQueue: aws.String("cli-queue"), JobDefinition: aws.String("cli-job"),
		// More vCPUs than the compute environment has: RUNNABLE for ever.
		ContainerOverrides: &batchtypes.ContainerOverrides{ResourceRequirements: []batchtypes.ResourceRequirement{{Type: batchtypes.ResourceTypeVcpu, Value: aws.String("64")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.JobId)

	f, _, errOut = stackFactory(cfg, true, "\n")
	if err := runDown(ctx, &downOptions{f: f, waits: fastWaits}); err != nil {
		t.Fatalf("down answered no: %v", err)
	}
	for _, want := range []string{"job " + id + " stuck is ", ", terminating the 1 jobs above? [y/N] nothing deleted\n"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("down's stderr lacks %q:\n%s", want, errOut)
		}
	}

	f, stdout, errOut := stackFactory(cfg, false, "")
	f.Globals.Output = outputJSON
	if err := runDown(ctx, &downOptions{f: f, yes: true, waits: fastWaits}); err != nil {
		t.Fatalf("down --yes: %v\n%s", err, errOut)
	}
	if !strings.Contains(errOut.String(), "job "+id+" stuck is ") {
		t.Errorf("down --yes did not list the job:\n%s", errOut)
	}
	if !strings.Contains(stdout.String(), `"detail": "1 job terminated"`) {
		t.Errorf("down's report does not say the job was terminated:\n%s", stdout)
	}
}

// A registry that cannot be reached is named by its host, not by
// AWS_ENDPOINT_URL, which is not where the push went.
func TestExplainUnreachableRegistry(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	op := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	err := fmt.Errorf("job image: %w", &provision.ImageError{Repository: "123456789012.dkr.ecr.us-east-1.amazonaws.com/batchxray/demo", Err: op})
	got := explainAWSError(err).Error()
	if !strings.HasPrefix(got, "cannot reach the container registry 123456789012.dkr.ecr.us-east-1.amazonaws.com: ") || strings.Contains(got, "4566") {
		t.Errorf("explained: %s", got)
	}
}
