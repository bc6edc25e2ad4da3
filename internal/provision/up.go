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

// Up creates or converges every resource of the stack. Independent steps
// run concurrently; the compute environment follows IAM, the network and the
// launch template; the queue follows the compute environment. With dryRun
// it only reads, and the results are the plan. A failure stops the steps
// that depend on it and lets the others finish, so re-running Up completes
// the stack and Down removes what was created.
func (p *Provisioner) Up(ctx context.Context, spec Spec, dryRun bool) ([]Result, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	p.results = nil
	var (
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	// Each step publishes its result here for the steps after it.
	var (
		instanceProfile, jobRole, sg, ltResult, image Result
		net                                           network
		iamOK, netOK, ltOK, imageOK, logsOK, bucketOK bool
	)
	ud := userdata.Params{Region: p.region, Partition: spec.Partition, Arch: spec.Arch, Version: spec.DaemonVersion}

	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := p.step("IAM role", p.names.InstanceRole, func() (Result, error) {
			return p.ensureRole(ctx, dryRun, role{
				name:  p.names.InstanceRole,
				trust: trustPolicy(ec2Principal(spec.Partition)),
				managed: []string{
					managedPolicyARN(spec.Partition, instanceRolePolicies[0]),
					managedPolicyARN(spec.Partition, instanceRolePolicies[1]),
				},
			})
		})
		if err != nil {
			fail(err)
			return
		}
		instanceProfile, err = p.step("IAM instance profile", p.names.InstanceProfile, func() (Result, error) { return p.ensureInstanceProfile(ctx, dryRun) })
		if err != nil {
			fail(err)
			return
		}
		jobRole, err = p.step("IAM role", p.names.JobRole, func() (Result, error) {
			return p.ensureRole(ctx, dryRun, role{
				name:   p.names.JobRole,
				trust:  trustPolicy("ecs-tasks.amazonaws.com"),
				inline: map[string]string{p.names.JobRolePolicy: jobRolePolicy(spec.Partition, p.names.Bucket)},
			})
		})
		if err != nil {
			fail(err)
			return
		}
		iamOK = true
	})
	wg.Go(func() {
		_, err := p.step("S3 bucket", p.names.Bucket, func() (Result, error) { return p.ensureBucket(ctx, dryRun, spec.Partition) })
		if err != nil {
			fail(err)
			return
		}
		bucketOK = true
	})
	wg.Go(func() {
		var err error
		_, err = p.step("log group", p.names.LogGroup, func() (Result, error) { return p.ensureLogGroup(ctx, dryRun, spec.LogRetentionDays) })
		if err != nil {
			fail(err)
			return
		}
		logsOK = true
	})
	wg.Go(func() {
		if spec.Image != "" {
			image, imageOK = Result{ID: spec.Image}, true
			return
		}
		repo, err := p.step("ECR repository", p.names.Repository, func() (Result, error) { return p.ensureRepository(ctx, dryRun) })
		if err != nil {
			fail(err)
			return
		}
		image, err = p.step("job image", p.names.Repository, func() (Result, error) { return p.ensureImage(ctx, dryRun, spec.Publisher, repo.ID) })
		if err != nil {
			fail(err)
			return
		}
		imageOK = true
	})
	wg.Go(func() {
		var err error
		sg, err = p.step("security group", p.names.SecurityGroup, func() (Result, error) {
			if net, err = p.defaultNetwork(ctx); err != nil {
				return Result{}, err
			}
			return p.ensureSecurityGroup(ctx, dryRun, net)
		})
		if err != nil {
			fail(err)
			return
		}
		netOK = true
	})
	wg.Go(func() {
		var err error
		ltResult, err = p.step("launch template", p.names.LaunchTemplate, func() (Result, error) { return p.ensureLaunchTemplate(ctx, dryRun, ud) })
		if err != nil {
			fail(err)
			return
		}
		ltOK = true
	})
	wg.Go(func() {
		if _, err := p.step("X-Ray sampling rule", p.names.SamplingRule, func() (Result, error) { return p.ensureSamplingRule(ctx, dryRun) }); err != nil {
			fail(err)
		}
	})
	wg.Wait()

	// The job definition needs the job role, the image and the log group;
	// the compute environment needs IAM, the network and the template.
	var ce Result
	var ceOK bool
	if iamOK && imageOK && logsOK && bucketOK {
		wg.Go(func() {
			if _, err := p.step("job definition", p.names.JobDefinition, func() (Result, error) {
				return p.ensureJobDefinition(ctx, dryRun, jobDefinition{
					image: image.ID, jobRoleARN: jobRole.ARN, logGroup: p.names.LogGroup, bucket: p.names.Bucket,
					sampleURL: spec.SampleURL, vcpus: spec.JobVCPUs, memoryMiB: spec.JobMemoryMiB, timeout: spec.JobTimeout,
				})
			}); err != nil {
				fail(err)
			}
		})
	}
	if iamOK && netOK && ltOK {
		var err error
		ce, err = p.step("compute environment", p.names.ComputeEnvironment, func() (Result, error) {
			return p.ensureComputeEnvironment(ctx, dryRun, ceInput{
				maxVCPUs: spec.MaxVCPUs, instanceTypes: spec.InstanceTypes, subnets: net.subnets,
				securityGroup: sg.ID, instanceProfile: instanceProfile.ARN, launchTemplate: ltResult.ID,
			}, ltResult.Action == Update)
		})
		if err != nil {
			fail(err)
		} else {
			ceOK = true
		}
	}
	if ceOK {
		if _, err := p.step("job queue", p.names.JobQueue, func() (Result, error) { return p.ensureJobQueue(ctx, dryRun, ce.ARN) }); err != nil {
			fail(err)
		}
	}
	wg.Wait()
	return p.sortedResults(), errors.Join(errs...)
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
