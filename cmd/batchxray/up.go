package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/userdata"
)

type upOptions struct {
	f *factory

	// spec takes the flags that are the stack's desired state.
	spec      provision.Spec
	jobBinary string
	dryRun    bool

	// The job image's kind (see chooseJobImage).
	baseImage      string
	jobImageSource string
	// keychain and imageTransport reach the registries; nil in use, set
	// by tests.
	keychain       authn.Keychain
	imageTransport http.RoundTripper
	// waits bound Batch's waits; zero means provision's defaults.
	waits provision.WaitOptions
}

// DefaultSampleURL is what the sample job fetches unless --sample-url says
// otherwise.
const defaultSampleURL = "https://aws.amazon.com/"

func newUpCmd(f *factory, runF func(context.Context, *upOptions) error) *cobra.Command {
	opts := &upOptions{f: f}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create or converge the stack's AWS resources.",
		Long: `Create or converge every resource of the stack: IAM roles, the S3 bucket, the
ECR repository and job image, the security group, the launch template whose
user data installs the tracing agent, the sampling rule, the log group, the
compute environment, the job queue and the job definition. Running it again
changes only what differs.`,
		Example: `  batchxray up
  batchxray up --dry-run
  batchxray up --base-image python:3.13-slim --agent cloudwatch --tracer otel
  batchxray up --arch arm64 --job-binary ./batchxray-linux-arm64 --max-vcpus 64
  batchxray up --image 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-job:1.2 --output json | jq -r '.resources[].arn'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.spec.Arch != "x86_64" && opts.spec.Arch != "arm64" {
				return usageErrorf("invalid --arch %q: want x86_64 or arm64", opts.spec.Arch)
			}
			if len(opts.spec.InstanceTypes) == 0 {
				opts.spec.InstanceTypes = []string{map[string]string{"x86_64": "optimal", "arm64": "default_arm64"}[opts.spec.Arch]}
			}
			if err := checkImageFlags(opts); err != nil {
				return err
			}
			spec := opts.spec
			spec.Publisher = &image.Publisher{} // checked for presence only
			if err := spec.Validate(); err != nil {
				return &usageError{err}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runUp(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.spec.Arch, "arch", "x86_64", "compute environment architecture: x86_64 or arm64")
	fl.StringSliceVar(&opts.spec.InstanceTypes, "instance-types", nil, "instance types Batch may launch (default optimal, or default_arm64 for arm64)")
	fl.Int32Var(&opts.spec.MaxVCPUs, "max-vcpus", 16, "the compute environment's maximum vCPUs")
	fl.Int32Var(&opts.spec.JobVCPUs, "job-vcpus", 1, "vCPUs a job gets by default")
	fl.Int32Var(&opts.spec.JobMemoryMiB, "job-memory", 2048, "memory a job gets by default, in MiB")
	fl.DurationVar(&opts.spec.JobTimeout, "job-timeout", time.Hour, "a job attempt's timeout (at least 60s)")
	fl.Int32Var(&opts.spec.LogRetentionDays, "log-retention", 30, "days the log group keeps job output")
	fl.StringVar(&opts.spec.Image, "image", "", "use this image, which already holds batchxray on its PATH, for jobs as it is (up checks it)")
	fl.StringVar(&opts.baseImage, "base-image", "", "trace your own image: the job image is this one plus batchxray, its command run under `batchxray job --`")
	fl.StringVar(&opts.jobImageSource, "job-image-source", "", "a published job image to take batchxray from: the job image is copied from it, or with --base-image its linux binary is added (default, when this binary cannot go into the image: "+image.PublicImage(version)+")")
	fl.StringVar(&opts.spec.Agent, "agent", userdata.AgentXRayDaemon, "the hosts' tracing agent: xray-daemon or cloudwatch (the CloudWatch agent, X-Ray UDP and OTLP on loopback)")
	fl.StringVar(&opts.spec.Tracer, "tracer", provision.TracerXRay, "the job's tracer: xray (the X-Ray SDK) or otel (OpenTelemetry over OTLP)")
	fl.StringVar(&opts.jobBinary, "job-binary", "", "a linux batchxray binary for the compute environment's architecture, when this one is not")
	fl.StringVar(&opts.spec.SampleURL, "sample-url", defaultSampleURL, "the URL the sample job fetches")
	fl.StringVar(&opts.spec.DaemonVersion, "daemon-version", "", "pin the X-Ray daemon version the hosts install (default 3.x)")
	fl.BoolVar(&opts.spec.Spot, "spot", false, "run jobs on Spot instances (allocation SPOT_PRICE_CAPACITY_OPTIMIZED)")
	fl.StringSliceVar(&opts.spec.Subnets, "subnets", nil, "subnet IDs of one VPC to run in, for accounts without a default VPC (default: the default VPC's)")
	fl.StringVar(&opts.spec.SecurityGroup, "security-group", "", "a security group of the subnets' VPC for the instances (default: the stack makes one); needs --subnets")
	fl.BoolVar(&opts.dryRun, "dry-run", false, "plan, do not apply: print what would change and the order up goes in")
	return cmd
}

func runUp(ctx context.Context, opts *upOptions) error {
	f := opts.f
	io := f.IOStreams
	start := f.Now()
	// Everything the user gave is checked before the first call.
	spec := opts.spec
	if opts.jobBinary != "" {
		if _, err := jobPublisher(opts.spec.Arch, opts.jobBinary); err != nil {
			return &usageError{err}
		}
	}
	sc, err := loadStack(ctx, f)
	if err != nil {
		return err
	}
	spec.Partition = sc.partition
	ji, err := chooseJobImage(ctx, opts, sc.cfg)
	if err != nil {
		return err
	}
	spec.Publisher, spec.ImageCommand = ji.publisher, ji.imageCommand
	if ji.note != "" {
		fmt.Fprintln(io.ErrOut, ji.note)
	}
	p, progress := newStackProvisioner(f, sc, opts.waits, opts.dryRun)
	verb := "up"
	if opts.dryRun {
		verb = "plan"
	}
	fmt.Fprintf(io.ErrOut, "%s stack %s in %s (account %s)\n", verb, sc.names.Stack, sc.cfg.Region, sc.account)
	results, err := p.Up(ctx, spec, opts.dryRun)
	progress.Close()
	if perr := printStackReport(io.Out, f.Globals.JSON(), opts.dryRun, sc, results); perr != nil {
		return perr
	}
	if opts.dryRun {
		printSteps(io.ErrOut, p.Steps(spec))
	}
	fmt.Fprintln(io.ErrOut, summary(verb, results, f.Now().Sub(start), err))
	if err != nil {
		var ie *provision.ImageError
		if errors.As(err, &ie) {
			fmt.Fprintf(io.ErrOut, "hint: the job image could not be pushed to %s; if this endpoint has no container registry, pass --image with an image your compute environment can pull\n", ie.Repository)
		}
		return explainAWSError(err)
	}
	if !opts.dryRun {
		fmt.Fprintf(io.ErrOut, "next: id=$(batchxray submit --stack %s) && batchxray status \"$id\" && batchxray trace \"$id\"\n", sc.names.Stack)
	}
	return nil
}
