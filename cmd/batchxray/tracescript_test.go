package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/xray"
	"github.com/batchxray/batchxray/internal/provision"
)

// ownStandIns are the stand-ins a script has to itself, by endpoint: the
// only ones faults are injected into, so no other script sees them.
var ownStandIns sync.Map // endpoint → *localaws.Server

// cmdOwnStandIn is the script command `ownstandin STACK [cloudwatchlogs]`:
// like `standin`, but on a stand-in of the script's own (closed when the
// script ends), in X-Ray mode or with Transaction Search on and no trace
// indexed. `fault` and `oom` act on it.
func cmdOwnStandIn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 || len(args) == 2 && args[1] != "cloudwatchlogs" {
		ts.Fatalf("usage: ownstandin STACK [cloudwatchlogs]")
	}
	exe, err := exec.LookPath("batchxray")
	ts.Check(err)
	opts := localaws.Options{ComputeEnvironmentDelay: sharedDelay, Executable: exe}
	if len(args) == 2 {
		opts.XRay = xray.Config{Destination: xray.DestinationCloudWatchLogs, IndexingPercentage: -1}
	}
	srv := localaws.New(opts)
	hs := httptest.NewServer(srv)
	srv.SetEndpoint(hs.URL)
	ts.Defer(func() {
		ownStandIns.Delete(hs.URL)
		hs.Close()
		_ = srv.Close()
	})
	_, err = srv.StartDaemon("127.0.0.1:0")
	ts.Check(err)
	ownStandIns.Store(hs.URL, srv)
	for k, v := range map[string]string{
		"ENDPOINT": hs.URL, "AWS_ENDPOINT_URL": hs.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "BATCHXRAY_STACK": args[0],
	} {
		ts.Setenv(k, v)
	}
}

// ownStandIn is the script's own stand-in.
func ownStandIn(ts *testscript.TestScript, cmd string) *localaws.Server {
	srv, ok := ownStandIns.Load(ts.Getenv("AWS_ENDPOINT_URL"))
	if !ok {
		ts.Fatalf("%s: no ownstandin in this script", cmd)
	}
	return srv.(*localaws.Server)
}

// cmdFault is the script command `fault SERVICE OPERATION CODE`: every
// later call of the operation on the script's own stand-in fails with CODE,
// HTTP 403, as a missing permission does.
func cmdFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: fault SERVICE OPERATION CODE")
	}
	ownStandIn(ts, "fault").InjectFault(args[0], args[1],
		awsproto.Errorf(http.StatusForbidden, args[2], "injected: not authorized to perform %s:%s", args[0], args[1]), -1)
}

// cmdOOM is the script command `oom JOB_ID`: the script's own stand-in's
// Batch kills the RUNNING job for its memory, as the OOM killer would.
func cmdOOM(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: oom JOB_ID")
	}
	ts.Check(ownStandIn(ts, "oom").ExceedMemory(args[0]))
}

// cmdRawSubmit is the script command `rawsubmit NAME CMD ARGS...`: SubmitJob
// called directly, as `aws batch submit-job` would, on the stack's queue and
// job definition with CMD as the container's command: no trace ID tag, no
// trace header. It prints the job ID.
func cmdRawSubmit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: rawsubmit NAME CMD ARGS...")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(ts.Getenv("AWS_REGION")),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		config.WithBaseEndpoint(ts.Getenv("AWS_ENDPOINT_URL")),
	)
	ts.Check(err)
	names, err := provision.NamesFor(ts.Getenv("BATCHXRAY_STACK"), "000000000000", ts.Getenv("AWS_REGION"))
	ts.Check(err)
	out, err := batch.NewFromConfig(cfg).SubmitJob(context.Background(), &batch.SubmitJobInput{
		JobName: aws.String(args[0]), JobQueue: aws.String(names.JobQueue), JobDefinition: aws.String(names.JobDefinition),
		ContainerOverrides: &types.ContainerOverrides{Command: args[1:]},
	})
	ts.Check(err)
	fmt.Fprintln(ts.Stdout(), aws.ToString(out.JobId))
}
