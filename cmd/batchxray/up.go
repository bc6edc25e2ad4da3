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

	arch          string
	instanceTypes []string
	maxVCPUs      int32
	jobVCPUs      int32
	jobMemory     int32
	jobTimeout    time.Duration
	logRetention  int32
	image         string
	jobBinary     string
	sampleURL     string
	daemonVersion string
	spot          bool
	subnets       []string
	securityGroup string
	dryRun        bool

	// The job image's kind and the tracing path (issues 14 and 17).
	baseImage      string
	jobImageSource string
	agent          string
	tracer         string
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
			if opts.arch != "x86_64" && opts.arch != "arm64" {
				return usageErrorf("invalid --arch %q: want x86_64 or arm64", opts.arch)
			}
			if len(opts.instanceTypes) == 0 {
				opts.instanceTypes = []string{map[string]string{"x86_64": "optimal", "arm64": "default_arm64"}[opts.arch]}
			}
			if err := checkImageFlags(opts); err != nil {
				return err
			}
			spec := opts.spec()
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
	fl.StringVar(&opts.arch, "arch", "x86_64", "compute environment architecture: x86_64 or arm64")
	fl.StringSliceVar(&opts.instanceTypes, "instance-types", nil, "instance types Batch may launch (default optimal, or default_arm64 for arm64)")
	fl.Int32Var(&opts.maxVCPUs, "max-vcpus", 16, "the compute environment's maximum vCPUs")
	fl.Int32Var(&opts.jobVCPUs, "job-vcpus", 1, "vCPUs a job gets by default")
	fl.Int32Var(&opts.jobMemory, "job-memory", 2048, "memory a job gets by default, in MiB")
	fl.DurationVar(&opts.jobTimeout, "job-timeout", time.Hour, "a job attempt's timeout (at least 60s)")
	fl.Int32Var(&opts.logRetention, "log-retention", 30, "days the log group keeps job output")
	fl.StringVar(&opts.image, "image", "", "use this image, which already holds batchxray on its PATH, for jobs as it is (up checks it)")
	fl.StringVar(&opts.baseImage, "base-image", "", "trace your own image: the job image is this one plus batchxray, its command run under `batchxray job --`")
	fl.StringVar(&opts.jobImageSource, "job-image-source", "", "a published job image to take batchxray from: the job image is copied from it, or with --base-image its linux binary is added (default, when this binary cannot go into the image: "+image.PublicImage(version)+")")
	fl.StringVar(&opts.agent, "agent", userdata.AgentXRayDaemon, "the hosts' tracing agent: xray-daemon or cloudwatch (the CloudWatch agent, X-Ray UDP and OTLP on loopback)")
	fl.StringVar(&opts.tracer, "tracer", provision.TracerXRay, "the job's tracer: xray (the X-Ray SDK) or otel (OpenTelemetry over OTLP)")
	fl.StringVar(&opts.jobBinary, "job-binary", "", "a linux batchxray binary for the compute environment's architecture, when this one is not")
	fl.StringVar(&opts.sampleURL, "sample-url", defaultSampleURL, "the URL the sample job fetches")
	fl.StringVar(&opts.daemonVersion, "daemon-version", "", "pin the X-Ray daemon version the hosts install (default 3.x)")
	fl.BoolVar(&opts.spot, "spot", false, "run jobs on Spot instances (allocation SPOT_PRICE_CAPACITY_OPTIMIZED)")
	fl.StringSliceVar(&opts.subnets, "subnets", nil, "subnet IDs of one VPC to run in, for accounts without a default VPC (default: the default VPC's)")
	fl.StringVar(&opts.securityGroup, "security-group", "", "a security group of the subnets' VPC for the instances (default: the stack makes one); needs --subnets")
	fl.BoolVar(&opts.dryRun, "dry-run", false, "plan, do not apply: print what would change and the order up goes in")
	return cmd
}

func (o *upOptions) spec() provision.Spec {
	return provision.Spec{
		Arch:             o.arch,
		InstanceTypes:    o.instanceTypes,
		MaxVCPUs:         o.maxVCPUs,
		JobVCPUs:         o.jobVCPUs,
		JobMemoryMiB:     o.jobMemory,
		JobTimeout:       o.jobTimeout,
		LogRetentionDays: o.logRetention,
		Image:            o.image,
		SampleURL:        o.sampleURL,
		DaemonVersion:    o.daemonVersion,
		Spot:             o.spot,
		Subnets:          o.subnets,
		SecurityGroup:    o.securityGroup,
		Agent:            o.agent,
		Tracer:           o.tracer,
	}
}

func runUp(ctx context.Context, opts *upOptions) error {
	f := opts.f
	io := f.IOStreams
	start := f.Now()
	// Everything the user gave is checked before the first call.
	spec := opts.spec()
	if opts.jobBinary != "" {
		if _, err := jobPublisher(opts.arch, opts.jobBinary); err != nil {
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
