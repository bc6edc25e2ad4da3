package main

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/jobrunner"
)

type jobOptions struct {
	f *factory

	ServiceName string
	JobName     string
	URLs        []string
	Bucket      string
	NoUpload    bool
	SampleRate  float64
	// Tracer and OTLPEndpoint are passed on unchecked: the job reports a
	// bad one in one line and runs untraced rather than not at all.
	Tracer       string
	OTLPEndpoint string
	// Command is what follows --, run instead of the sample work.
	Command []string
}

func newJobCmd(f *factory, runF func(context.Context, *jobOptions) error) *cobra.Command {
	opts := &jobOptions{f: f}
	cmd := &cobra.Command{
		Use:   "job [-- COMMAND [ARG...]]",
		Short: "Run the traced job inside the Batch container (the job definition's command).",
		Long: `Run the traced job. This is the command of the stack's job definition: it
opens the job's X-Ray segment, annotates it with the job's ID, name, queue,
compute environment and attempt, and then either does the sample work (an HTTP
GET of each --url and an S3 PutObject of the body to the stack's bucket under
jobs/<job ID>/) or runs the command after -- as a child, which gets the trace
header in _X_AMZN_TRACE_ID and whose exit code becomes the job's. On SIGTERM
(Batch's timeout or terminate) the trace is closed with a fault and sent, and
the job exits 143.

--tracer xray (the default) sends to the daemon at AWS_XRAY_DAEMON_ADDRESS
(default 127.0.0.1:2000); --tracer otel sends OTLP/HTTP to
OTEL_EXPORTER_OTLP_ENDPOINT (default http://127.0.0.1:4318, the host's
CloudWatch agent) or, signed, to --otlp-endpoint (X-Ray's needs Transaction
Search). The job joins the trace in _X_AMZN_TRACE_ID when submit set one.
Outside Batch it still runs, as job local-<random>.`,
		Example: `  # What the job definition runs (the definition sets the variables):
  BATCHXRAY_URL=https://example.com/ BATCHXRAY_BUCKET=my-bucket batchxray job

  # Trace your own command; its output and exit code pass through:
  batchxray job -- python3 train.py --epochs 3

  # OpenTelemetry, straight to X-Ray:
  batchxray job --tracer otel --otlp-endpoint https://xray.us-east-1.amazonaws.com/v1/traces -- ./run.sh

  # Try it on your machine against the local stand-in's daemon, no upload:
  AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2000 batchxray job --url https://example.com/ --no-upload`,
		Args: commandAfterDash,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() >= 0 {
				opts.Command = args
			}
			if opts.SampleRate < 0 || opts.SampleRate > 1 {
				return usageErrorf("invalid --sample-rate %g: want a number from 0 to 1", opts.SampleRate)
			}
			if len(opts.Command) > 0 {
				for _, name := range []string{"url", "bucket", "no-upload"} {
					if cmd.Flags().Changed(name) {
						return usageErrorf("--%s is for the sample work and cannot be used with a command after --", name)
					}
				}
			} else {
				if len(opts.URLs) == 0 {
					return usageErrorf("no URL to fetch: pass --url or set BATCHXRAY_URL")
				}
				if !opts.NoUpload && opts.Bucket == "" {
					return usageErrorf("no bucket to upload to: pass --bucket or set BATCHXRAY_BUCKET, or pass --no-upload")
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJob(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ServiceName, "service-name", envOr("BATCHXRAY_SERVICE_NAME", "BatchJob"), "name of the job's X-Ray segment (env BATCHXRAY_SERVICE_NAME)")
	fl.StringVar(&opts.JobName, "job-name", os.Getenv("BATCHXRAY_JOB_NAME"), "the job's name, recorded as annotation job_name; Batch does not provide it (env BATCHXRAY_JOB_NAME)")
	var urls []string
	if u := os.Getenv("BATCHXRAY_URL"); u != "" {
		urls = []string{u}
	}
	fl.StringArrayVar(&opts.URLs, "url", urls, "URL the sample work fetches; repeat for several (env BATCHXRAY_URL)")
	fl.StringVar(&opts.Bucket, "bucket", os.Getenv("BATCHXRAY_BUCKET"), "bucket the sample work uploads each body to, under jobs/<job ID>/ (env BATCHXRAY_BUCKET)")
	fl.BoolVar(&opts.NoUpload, "no-upload", false, "fetch only; upload nothing")
	fl.Float64Var(&opts.SampleRate, "sample-rate", 1, "share of jobs traced, from 0 to 1; 1 traces every job")
	fl.StringVar(&opts.Tracer, "tracer", envOr("BATCHXRAY_TRACER", jobrunner.TracerXRay), "tracing SDK: xray (to the X-Ray daemon over UDP) or otel (OTLP over HTTP) (env BATCHXRAY_TRACER)")
	fl.StringVar(&opts.OTLPEndpoint, "otlp-endpoint", os.Getenv("BATCHXRAY_OTLP_ENDPOINT"), "with --tracer otel, send SigV4-signed to this OTLP traces URL, such as https://xray.<region>.amazonaws.com/v1/traces, instead of the host agent (env BATCHXRAY_OTLP_ENDPOINT)")
	return cmd
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func runJob(ctx context.Context, opts *jobOptions) error {
	ios := opts.f.IOStreams
	v := currentBuild()
	version := v.Version
	if v.Commit != "unknown" {
		version += " (" + v.Commit + ")"
	}
	err := jobrunner.Run(ctx, jobrunner.Options{
		ServiceName:  opts.ServiceName,
		SampleRate:   opts.SampleRate,
		JobName:      opts.JobName,
		Version:      version,
		Tracer:       opts.Tracer,
		OTLPEndpoint: opts.OTLPEndpoint,
		Command:      opts.Command,
		URLs:         opts.URLs,
		Bucket:       opts.Bucket,
		NoUpload:     opts.NoUpload,
		AWSConfig:    opts.f.AWSConfig,
		Environ:      os.Environ(),
		Stdin:        ios.In,
		Stdout:       ios.Out,
		Stderr:       ios.ErrOut,
		Grace:        jobrunner.DefaultGrace,
	})
	var ce *jobrunner.CommandExitError
	if errors.As(err, &ce) {
		// The command has said what went wrong on its own stderr.
		return &passthroughError{code: ce.Code}
	}
	return err
}
