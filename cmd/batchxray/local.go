package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/batch"
	"github.com/batchxray/batchxray/internal/localaws/xray"
)

type localOptions struct {
	f *factory

	// Addr is where the AWS endpoint listens; port 0 picks a free one.
	Addr string
	// DaemonAddr is where the X-Ray daemon listens (UDP and TCP).
	DaemonAddr string
	// OTLPAddr is where the host agent's OTLP/HTTP receiver listens; ""
	// starts none.
	OTLPAddr string
	// otlpAddrSet says --otlp-addr was given: only then is a taken
	// address an error.
	otlpAddrSet bool
	// ReadyFile, if set, receives the endpoint URL once it listens, for
	// scripts that start the stand-in in the background.
	ReadyFile string
	// StandIn are the stand-in's options. Flags write into it directly, so
	// a new option is one flag line in newLocalCmd.
	StandIn localaws.Options

	// onReady, if set, is called with the endpoint URL once it serves
	// (tests use it instead of polling the ready file).
	onReady func(endpoint string)
}

func newLocalCmd(f *factory, runF func(context.Context, *localOptions) error) *cobra.Command {
	opts := &localOptions{f: f}
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Serve a local AWS stand-in on 127.0.0.1.",
		Long: `Serve a local AWS stand-in: Batch, IAM, EC2, S3, ECR, X-Ray, STS and
CloudWatch Logs on one HTTP endpoint, speaking each service's own protocol,
with an X-Ray daemon beside it.

Submitted jobs run as local processes, started as ECS starts a container:
for an image in the stand-in's own registry, the argv is the image's
entrypoint, then the job's command (else the image's), and its executable
must be in the image (on the image's PATH) or the job fails with
CannotStartContainerError as on AWS. It then runs on this machine: batchxray
as this binary, anything else by its name on this machine's PATH. Its PATH
is the image's, each directory holding only the image's executables (as
links to this machine's programs of the same name), so what it runs by name,
such as the command of batchxray job -- CMD or a shell's commands, is found
only when the image holds it: batchxray job -- sh on an image without a
shell fails with exit 127, as on AWS. An image from another registry is not
checked (the job's log says so) and its command runs as it is. Jobs get Batch's and ECS's environment only: set AWS_REGION in
the job definition.

It listens on loopback only, answers only requests to a loopback address or
localhost, and only SigV4-signed AWS requests (any key): it runs the
commands it is sent. --allow-remote lifts that, with a warning.

It prints on stderr the variables that point the AWS SDK and CLI (and
batchxray) at it, and serves until interrupted.`,
		Example: `  # Terminal 1:
  batchxray local
  # Terminal 2, with what it printed:
  export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  batchxray up && id=$(batchxray submit) && batchxray trace "$id"

  # In a script: any free port, and wait until it serves.
  batchxray local --addr 127.0.0.1:0 --ready-file /tmp/bx.ready &
  until [ -s /tmp/bx.ready ]; do sleep 0.1; done
  export AWS_ENDPOINT_URL=$(cat /tmp/bx.ready)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if r := opts.StandIn.ThrottleRate; r < 0 || r > 1 {
				return usageErrorf("invalid --throttle-rate %v: want a share from 0 to 1", r)
			}
			if opts.StandIn.Latency < 0 || opts.StandIn.IAMPropagation < 0 || opts.StandIn.ComputeEnvironmentDelay < 0 {
				return usageErrorf("--latency, --iam-propagation and --compute-environment-delay cannot be negative")
			}
			if opts.StandIn.BatchRetention <= 0 {
				return usageErrorf("invalid --batch-retention %s: must be positive", opts.StandIn.BatchRetention)
			}
			// On the command line 0 means no delay; in Options 0 means the
			// default and a negative value none.
			if opts.StandIn.ComputeEnvironmentDelay == 0 {
				opts.StandIn.ComputeEnvironmentDelay = -1
			}
			x := &opts.StandIn.XRay
			if x.IndexDelay < 0 || x.RetrievalDelay < 0 {
				return usageErrorf("--xray-index-delay and --xray-retrieval-delay cannot be negative")
			}
			switch strings.ToLower(x.Destination) {
			case "xray":
				x.Destination = xray.DestinationXRay
			case "cloudwatchlogs":
				x.Destination = xray.DestinationCloudWatchLogs
			default:
				return usageErrorf("invalid --xray-destination %q: want xray or cloudwatchlogs", x.Destination)
			}
			if p := x.IndexingPercentage; p < 0 || p > 100 {
				return usageErrorf("invalid --indexing-percentage %v: want a percentage from 0 to 100", p)
			} else if p == 0 {
				x.IndexingPercentage = -1 // none; 0 in the options is AWS's default
			}
			opts.otlpAddrSet = cmd.Flags().Changed("otlp-addr")
			// The global --region is the stand-in's region.
			opts.StandIn.Region = f.Globals.Region
			// Accept the endpoint URL as well, as users paste it back.
			opts.Addr = strings.TrimPrefix(opts.Addr, "http://")
			if !localaws.Loopback(opts.Addr) && !opts.StandIn.AllowRemote {
				return usageErrorf("--addr %s is not a loopback address: the stand-in runs the commands it is sent, so anyone who reaches it can run commands here; pass --allow-remote to serve it there anyway", opts.Addr)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runLocal(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Addr, "addr", "127.0.0.1:4566", "address the AWS endpoint listens on (port 0: any free port)")
	fl.StringVar(&opts.DaemonAddr, "daemon-addr", "127.0.0.1:2000", "address the X-Ray daemon listens on, UDP and TCP")
	fl.StringVar(&opts.OTLPAddr, "otlp-addr", "127.0.0.1:4318", "address the host agent's OTLP/HTTP receiver listens on (POST /v1/traces)")
	fl.StringVar(&opts.ReadyFile, "ready-file", "", "write the endpoint URL to this file once serving (removed on exit)")
	// The stand-in's options: one line each.
	fl.BoolVar(&opts.StandIn.AllowRemote, "allow-remote", false, "serve on a non-loopback --addr and answer any Host (anyone who reaches it can run commands here)")
	fl.StringVar(&opts.StandIn.Account, "account", "000000000000", "AWS account ID in every ARN")
	fl.DurationVar(&opts.StandIn.Latency, "latency", 0, "latency added to every call, like a real endpoint's round trip")
	fl.Float64Var(&opts.StandIn.ThrottleRate, "throttle-rate", 0, "share of calls (0 to 1) answered with the service's throttling error")
	fl.DurationVar(&opts.StandIn.IAMPropagation, "iam-propagation", 0, "how long new IAM roles and instance profiles stay invisible to other services")
	fl.DurationVar(&opts.StandIn.ComputeEnvironmentDelay, "compute-environment-delay", 2*time.Second, "how long Batch compute environments and job queues stay CREATING, UPDATING or DELETING")
	fl.DurationVar(&opts.StandIn.BatchRetention, "batch-retention", batch.DefaultRetention, "how long Batch still returns a job after it ended (DescribeJobs, ListJobs)")
	fl.DurationVar(&opts.StandIn.XRay.IndexDelay, "xray-index-delay", 3*time.Second, "how long after its segments arrive X-Ray indexes a trace (GetTraceSummaries, BatchGetTraces)")
	fl.StringVar(&opts.StandIn.XRay.Destination, "xray-destination", "xray", "where X-Ray sends segments: xray, or cloudwatchlogs (Transaction Search, spans in aws/spans)")
	fl.Float64Var(&opts.StandIn.XRay.IndexingPercentage, "indexing-percentage", 1, "share of traces (percent) Transaction Search indexes as trace summaries")
	fl.DurationVar(&opts.StandIn.XRay.RetrievalDelay, "xray-retrieval-delay", time.Second, "how long a StartTraceRetrieval runs before it is COMPLETE")
	return cmd
}

func runLocal(ctx context.Context, opts *localOptions) error {
	so := opts.StandIn
	so.Logger = opts.f.Logger()
	return localaws.Serve(ctx, so, localaws.Listen{
		Addr: opts.Addr, DaemonAddr: opts.DaemonAddr, OTLPAddr: opts.OTLPAddr, OTLPRequired: opts.otlpAddrSet,
		ReadyFile: opts.ReadyFile, Log: opts.f.IOStreams.ErrOut, OnReady: opts.onReady,
	})
}
