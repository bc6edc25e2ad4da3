package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/userdata"
)

// Spec is what a stack should be, beyond its names.
type Spec struct {
	// Partition is aws, aws-cn or aws-us-gov.
	Partition string
	// Arch is the compute environment's architecture, x86_64 or arm64.
	Arch string
	// InstanceTypes the compute environment may launch.
	InstanceTypes []string
	// MaxVCPUs caps the compute environment.
	MaxVCPUs int32
	// JobVCPUs and JobMemoryMiB are the job definition's defaults.
	JobVCPUs     int32
	JobMemoryMiB int32
	// JobTimeout is the job definition's attempt timeout (at least 60 s).
	JobTimeout time.Duration
	// LogRetentionDays is the log group's retention.
	LogRetentionDays int32
	// Image is the user's own job image; empty builds and pushes
	// batchxray's through Publisher.
	Image     string
	Publisher ImagePublisher
	// SampleURL is what the sample job fetches.
	SampleURL string
	// DaemonVersion pins the X-Ray daemon the hosts install ("" for 3.x).
	DaemonVersion string
}

// Validate checks the spec before any call is made.
func (s Spec) Validate() error {
	switch {
	case s.Arch != "x86_64" && s.Arch != "arm64":
		return fmt.Errorf("invalid architecture %q: want x86_64 or arm64", s.Arch)
	case len(s.InstanceTypes) == 0:
		return errors.New("at least one instance type is needed")
	case s.MaxVCPUs < 1:
		return fmt.Errorf("invalid max vCPUs %d: want at least 1", s.MaxVCPUs)
	case s.JobVCPUs < 1 || s.JobVCPUs > s.MaxVCPUs:
		return fmt.Errorf("invalid job vCPUs %d: want 1 to the max vCPUs (%d)", s.JobVCPUs, s.MaxVCPUs)
	case s.JobMemoryMiB < 4:
		return fmt.Errorf("invalid job memory %d MiB: Batch needs at least 4", s.JobMemoryMiB)
	case s.JobTimeout < time.Minute:
		return fmt.Errorf("invalid job timeout %s: Batch needs at least 60s", s.JobTimeout)
	case s.Image == "" && s.Publisher == nil:
		return errors.New("no job image: give an image or a publisher")
	}
	return nil
}

// Up creates or converges every resource of the stack. It runs three
// chains at once: the compute environment's (the instance role and
// profile, the security group and the launch template, then the compute
// environment, then the queue), the job definition's (the job role, the
// bucket, the log group and the repository with the image, then the job
// definition) and the sampling rule. The compute environment, Batch's
// slowest step, so waits for nothing it does not use: not the image,
// whose push can take minutes. With dryRun it only reads, and the results
// are the plan. A failure stops the steps that depend on it and lets the
// others finish, so re-running Up completes the stack and Down removes
// what was created.
func (p *Provisioner) Up(ctx context.Context, spec Spec, dryRun bool) ([]Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	p.results = nil
	var (
		mu   sync.Mutex
		errs []error
	)
	// run is one step; it reports whether it succeeded, so the steps after
	// it know whether to go on.
	run := func(kind, name string, f func() (Result, error)) (Result, bool) {
		r, err := p.step(kind, name, f)
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		return r, err == nil
	}
	var wg sync.WaitGroup
	wg.Go(func() { p.upCompute(ctx, spec, dryRun, run) })
	wg.Go(func() { p.upJobDefinition(ctx, spec, dryRun, run) })
	wg.Go(func() {
		run("X-Ray sampling rule", p.names.SamplingRule, func() (Result, error) { return p.ensureSamplingRule(ctx, dryRun) })
	})
	wg.Wait()
	return p.sortedResults(), errors.Join(errs...)
}

// runStep is Up's way to run one step and learn whether it succeeded.
type runStep func(kind, name string, f func() (Result, error)) (Result, bool)

// upCompute is the compute environment's chain: what it needs, at once,
// then the compute environment, then the queue in front of it.
func (p *Provisioner) upCompute(ctx context.Context, spec Spec, dryRun bool, run runStep) {
	var (
		wg                                 sync.WaitGroup
		instanceProfile, sg, lt            Result
		net                                network
		profileOK, netOK, ltOK, instanceOK bool
	)
	wg.Go(func() {
		_, instanceOK = run("IAM role", p.names.InstanceRole, func() (Result, error) {
			return p.ensureRole(ctx, dryRun, role{
				name:  p.names.InstanceRole,
				trust: trustPolicy(ec2Principal(spec.Partition)),
				managed: []string{
					managedPolicyARN(spec.Partition, instanceRolePolicies[0]),
					managedPolicyARN(spec.Partition, instanceRolePolicies[1]),
				},
			})
		})
		if instanceOK {
			instanceProfile, profileOK = run("IAM instance profile", p.names.InstanceProfile, func() (Result, error) { return p.ensureInstanceProfile(ctx, dryRun) })
		}
	})
	wg.Go(func() {
		sg, netOK = run("security group", p.names.SecurityGroup, func() (Result, error) {
			var err error
			if net, err = p.defaultNetwork(ctx); err != nil {
				return Result{}, err
			}
			return p.ensureSecurityGroup(ctx, dryRun, net)
		})
	})
	wg.Go(func() {
		ud := userdata.Params{Region: p.region, Partition: spec.Partition, Arch: spec.Arch, Version: spec.DaemonVersion}
		lt, ltOK = run("launch template", p.names.LaunchTemplate, func() (Result, error) { return p.ensureLaunchTemplate(ctx, dryRun, ud) })
	})
	wg.Wait()
	if !profileOK || !netOK || !ltOK {
		return
	}
	ce, ok := run("compute environment", p.names.ComputeEnvironment, func() (Result, error) {
		return p.ensureComputeEnvironment(ctx, dryRun, ceInput{
			maxVCPUs: spec.MaxVCPUs, instanceTypes: spec.InstanceTypes, subnets: net.subnets,
			securityGroup: sg.ID, instanceProfile: instanceProfile.ARN,
		}, lt.Action == Update)
	})
	if ok {
		run("job queue", p.names.JobQueue, func() (Result, error) { return p.ensureJobQueue(ctx, dryRun, ce.ARN) })
	}
}

// upJobDefinition is the job definition's chain: the job role, the bucket
// its policy names, the log group and the image, at once, then the job
// definition that uses them.
func (p *Provisioner) upJobDefinition(ctx context.Context, spec Spec, dryRun bool, run runStep) {
	var (
		wg                                   sync.WaitGroup
		jobRole, image                       Result
		jobRoleOK, bucketOK, logsOK, imageOK bool
	)
	wg.Go(func() {
		jobRole, jobRoleOK = run("IAM role", p.names.JobRole, func() (Result, error) {
			return p.ensureRole(ctx, dryRun, role{
				name:   p.names.JobRole,
				trust:  trustPolicy("ecs-tasks.amazonaws.com"),
				inline: map[string]string{p.names.JobRolePolicy: jobRolePolicy(spec.Partition, p.names.Bucket)},
			})
		})
	})
	wg.Go(func() {
		_, bucketOK = run("S3 bucket", p.names.Bucket, func() (Result, error) { return p.ensureBucket(ctx, dryRun, spec.Partition) })
	})
	wg.Go(func() {
		_, logsOK = run("log group", p.names.LogGroup, func() (Result, error) { return p.ensureLogGroup(ctx, dryRun, spec.LogRetentionDays) })
	})
	wg.Go(func() {
		if spec.Image != "" {
			image, imageOK = Result{ID: spec.Image}, true
			return
		}
		repo, ok := run("ECR repository", p.names.Repository, func() (Result, error) { return p.ensureRepository(ctx, dryRun) })
		if ok {
			image, imageOK = run("job image", p.names.Repository, func() (Result, error) { return p.ensureImage(ctx, dryRun, spec.Publisher, repo.ID) })
		}
	})
	wg.Wait()
	if !jobRoleOK || !bucketOK || !logsOK || !imageOK {
		return
	}
	run("job definition", p.names.JobDefinition, func() (Result, error) {
		return p.ensureJobDefinition(ctx, dryRun, jobDefinition{
			image: image.ID, jobRoleARN: jobRole.ARN, logGroup: p.names.LogGroup, bucket: p.names.Bucket,
			sampleURL: spec.SampleURL, vcpus: spec.JobVCPUs, memoryMiB: spec.JobMemoryMiB, timeout: spec.JobTimeout,
		})
	})
}

// kindOrder is the order results are reported in: the order of creation.
var kindOrder = []string{
	"IAM role", "IAM instance profile", "S3 bucket", "log group", "ECR repository", "job image",
	"security group", "launch template", "X-Ray sampling rule", "compute environment", "job queue", "job definition",
}

func (p *Provisioner) sortedResults() []Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := slices.Clone(p.results)
	slices.SortStableFunc(rs, func(a, b Result) int {
		if d := slices.Index(kindOrder, a.Kind) - slices.Index(kindOrder, b.Kind); d != 0 {
			return d
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return rs
}
