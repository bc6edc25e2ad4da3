package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/provision"
	"github.com/batchxray/batchxray/internal/ui"
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
	dryRun        bool
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
user data installs the X-Ray daemon, the sampling rule, the log group, the
compute environment, the job queue and the job definition. Running it again
changes only what differs.`,
		Example: `  batchxray up
  batchxray up --dry-run
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
			if opts.image != "" && opts.jobBinary != "" {
				return usageErrorf("--image and --job-binary exclude each other: --image uses your image as it is")
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
	fl.StringVar(&opts.image, "image", "", "use this image for jobs instead of building and pushing batchxray's")
	fl.StringVar(&opts.jobBinary, "job-binary", "", "a linux batchxray binary for the compute environment's architecture, when this one is not")
	fl.StringVar(&opts.sampleURL, "sample-url", defaultSampleURL, "the URL the sample job fetches")
	fl.StringVar(&opts.daemonVersion, "daemon-version", "", "pin the X-Ray daemon version the hosts install (default 3.x)")
	fl.BoolVar(&opts.dryRun, "dry-run", false, "print the plan and change nothing")
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
	}
}

// goArch is Go's name for an architecture.
func goArch(arch string) string {
	if arch == "arm64" {
		return "arm64"
	}
	return "amd64"
}

// jobPublisher builds the publisher of batchxray's own job image: this
// binary when it runs on linux for the compute environment's architecture,
// else --job-binary.
func (o *upOptions) jobPublisher() (*image.Publisher, error) {
	arch := goArch(o.arch)
	path := o.jobBinary
	if path == "" {
		if runtime.GOOS != "linux" || runtime.GOARCH != arch {
			return nil, fmt.Errorf("the job image needs a linux/%s batchxray binary and this one is %s/%s: build one with `GOOS=linux GOARCH=%s go build -o batchxray-linux-%s ./cmd/batchxray` and pass --job-binary, or pass --image with your own image", arch, runtime.GOOS, runtime.GOARCH, arch, arch)
		}
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find this binary: %w", err)
		}
		path = exe
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the job binary: %w", err)
	}
	if err := image.CheckBinary(bin, arch); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ca, err := image.FindCABundle()
	if err != nil {
		return nil, err
	}
	return &image.Publisher{Binary: bin, Arch: arch, CABundle: ca}, nil
}

// stackReport is `up` and `down`'s JSON output.
type stackReport struct {
	Stack     string             `json:"stack"`
	Region    string             `json:"region"`
	DryRun    bool               `json:"dryRun,omitempty"`
	Resources []provision.Result `json:"resources"`
}

func runUp(ctx context.Context, opts *upOptions) error {
	f := opts.f
	io := f.IOStreams
	start := f.Now()
	sc, err := loadStack(ctx, f)
	if err != nil {
		return err
	}
	spec := opts.spec()
	spec.Partition = sc.partition
	if spec.Image == "" {
		pub, err := opts.jobPublisher()
		if err != nil {
			return err
		}
		spec.Publisher = pub
	}
	styles := ui.NewStyles(io.ErrOut, io.ColorEnabledStderr())
	progress := ui.NewProgress(io)
	p := provision.New(sc.cfg, sc.names, provision.Options{
		Logger:   f.Logger(),
		Observer: progressObserver(progress, styles, opts.dryRun),
		Waits:    opts.waits,
	})
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

// printStackReport writes the data on stdout: the resources as JSON, or the
// plan as text in a dry run. A real run's text goes to stderr as progress.
func printStackReport(w io.Writer, asJSON, dryRun bool, sc *stackContext, results []provision.Result) error {
	if asJSON {
		if results == nil {
			results = []provision.Result{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(stackReport{Stack: sc.names.Stack, Region: sc.cfg.Region, DryRun: dryRun, Resources: results})
	}
	if dryRun {
		plain := ui.NewStyles(w, false)
		for _, r := range results {
			if _, err := fmt.Fprintln(w, resultLine(plain, r, true)); err != nil {
				return err
			}
		}
	}
	return nil
}

// actionGlyphs carry the meaning without colour.
var actionGlyphs = map[provision.Action]string{
	provision.Create: "+", provision.Update: "~", provision.Unchanged: "=",
	provision.Delete: "-", provision.Absent: "·", provision.NotOurs: "!",
}

var planWords = map[provision.Action]string{
	provision.Create: "create", provision.Update: "update", provision.Unchanged: "unchanged",
	provision.Delete: "delete", provision.Absent: "absent", provision.NotOurs: "not ours",
}

var doneWords = map[provision.Action]string{
	provision.Create: "created", provision.Update: "updated", provision.Unchanged: "unchanged",
	provision.Delete: "deleted", provision.Absent: "absent", provision.NotOurs: "not ours",
}

func resultLine(s ui.Styles, r provision.Result, plan bool) string {
	words := doneWords
	if plan {
		words = planWords
	}
	style := s.Muted
	switch r.Action {
	case provision.Create, provision.Delete:
		style = s.OK
	case provision.Update:
		style = s.Running
	case provision.NotOurs:
		style = s.Warn
	}
	line := fmt.Sprintf("%s %-10s %-21s %s", actionGlyphs[r.Action], words[r.Action], r.Kind, r.Name)
	if r.Detail != "" {
		line += " (" + r.Detail + ")"
	}
	return style.Render(line)
}

func progressObserver(p *ui.Progress, s ui.Styles, plan bool) provision.Observer {
	return func(e provision.Event) {
		label := e.Kind + " " + e.Name
		if !e.Done {
			p.Start(label)
			return
		}
		if e.Err != nil {
			var no *provision.NotOursError
			if errors.As(e.Err, &no) {
				// The line names the resource already: the reason alone.
				p.Done(label, resultLine(s, e.Result, plan)+s.Warn.Render(": "+no.Error()))
				return
			}
			p.Done(label, s.Failed.Render(fmt.Sprintf("%s %-10s %-21s %s: %v", ui.GlyphFailed, "failed", e.Kind, e.Name, explainAWSError(e.Err))))
			return
		}
		if plan {
			// The plan itself is the data on stdout.
			p.End(label)
			return
		}
		p.Done(label, resultLine(s, e.Result, plan))
	}
}

// summary is the last line: counts by action, and the time taken.
func summary(verb string, results []provision.Result, took time.Duration, err error) string {
	counts := map[provision.Action]int{}
	for _, r := range results {
		counts[r.Action]++
	}
	words := doneWords
	if verb == "plan" {
		words = planWords
	}
	var parts []string
	for _, a := range []provision.Action{provision.Create, provision.Update, provision.Unchanged, provision.Delete, provision.Absent, provision.NotOurs} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], words[a]))
		}
	}
	status := "done"
	if err != nil {
		status = "failed"
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	return fmt.Sprintf("%s %s: %s (%s)", verb, status, strings.Join(parts, ", "), took.Round(100*time.Millisecond))
}
