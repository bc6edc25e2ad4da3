package provision

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

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
	// Spot makes the compute environment SPOT, allocated
	// SPOT_PRICE_CAPACITY_OPTIMIZED (which needs no Spot fleet role).
	Spot bool
	// Subnets and SecurityGroup are the user's network (--subnets,
	// --security-group); without Subnets the stack uses the default VPC.
	// With SecurityGroup the stack makes no security group of its own.
	Subnets       []string
	SecurityGroup string
	// JobVCPUs and JobMemoryMiB are the job definition's defaults.
	JobVCPUs     int32
	JobMemoryMiB int32
	// JobTimeout is the job definition's attempt timeout (at least 60 s).
	JobTimeout time.Duration
	// LogRetentionDays is the log group's retention, one of
	// LogRetentionValues.
	LogRetentionDays int32
	// Image is the user's own job image; empty builds and pushes
	// batchxray's through Publisher.
	Image     string
	Publisher ImagePublisher
	// SampleURL is what the sample job fetches.
	SampleURL string
	// DaemonVersion pins the X-Ray daemon the hosts install ("" for 3.x).
	DaemonVersion string

	// The job image's kind and the tracing path (issues 14 and 17).

	// ImageCommand is true when the job image's entrypoint already runs
	// `batchxray job --` (up --base-image): the job definition sets no
	// command, so the image's own command runs under tracing.
	ImageCommand bool
	// Agent is the hosts' tracing agent: userdata.AgentXRayDaemon ("" is
	// the same) or userdata.AgentCloudWatch.
	Agent string
	// Tracer is the job's tracer, BATCHXRAY_TRACER: TracerXRay ("" is the
	// same) or TracerOTel.
	Tracer string
}

// The job's tracers, as BATCHXRAY_TRACER names them.
const (
	TracerXRay = "xray"
	TracerOTel = "otel"
)

// validateTracing checks the agent and tracer fields.
func (s Spec) validateTracing() error {
	switch {
	case s.Agent != "" && s.Agent != userdata.AgentXRayDaemon && s.Agent != userdata.AgentCloudWatch:
		return fmt.Errorf("invalid agent %q: want %s or %s", s.Agent, userdata.AgentXRayDaemon, userdata.AgentCloudWatch)
	case s.Agent == userdata.AgentCloudWatch && s.DaemonVersion != "":
		return fmt.Errorf("a daemon version (%s) is for the X-Ray daemon, not the CloudWatch agent", s.DaemonVersion)
	case s.Tracer != "" && s.Tracer != TracerXRay && s.Tracer != TracerOTel:
		return fmt.Errorf("invalid tracer %q: want %s or %s", s.Tracer, TracerXRay, TracerOTel)
	}
	return nil
}

// LogRetentionValues are the retentions, in days, CloudWatch Logs'
// PutRetentionPolicy accepts.
var LogRetentionValues = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	regionPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	})
	subnetPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`) })
	groupPattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^sg-[0-9a-f]{8,17}$`) })
)

// ValidateRegion checks a region name (us-east-1, not US-EAST-1) before any
// call is made with it.
func ValidateRegion(region string) error {
	if !regionPattern().MatchString(region) {
		return fmt.Errorf("invalid region %q: want a region name such as us-east-1 (lowercase)", region)
	}
	return nil
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
	case !slices.Contains(LogRetentionValues, s.LogRetentionDays):
		return fmt.Errorf("invalid log retention %d days: CloudWatch Logs allows only %s", s.LogRetentionDays, joinInts(LogRetentionValues))
	case s.Image == "" && s.Publisher == nil:
		return errors.New("no job image: give an image or a publisher")
	case s.SecurityGroup != "" && len(s.Subnets) == 0:
		return errors.New("a security group needs its subnets: give --subnets too")
	}
	for _, t := range s.InstanceTypes {
		if t == "" || strings.ContainsAny(t, " \t") {
			return fmt.Errorf("invalid instance type %q", t)
		}
	}
	for _, id := range s.Subnets {
		if !subnetPattern().MatchString(id) {
			return fmt.Errorf("invalid subnet ID %q: want subnet- and 8 or 17 hex digits", id)
		}
	}
	if s.SecurityGroup != "" && !groupPattern().MatchString(s.SecurityGroup) {
		return fmt.Errorf("invalid security group ID %q: want sg- and 8 or 17 hex digits", s.SecurityGroup)
	}
	if s.Image != "" {
		if _, err := name.ParseReference(s.Image); err != nil {
			return fmt.Errorf("invalid image %q: %v", s.Image, err)
		}
	}
	if u, err := url.Parse(s.SampleURL); s.SampleURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		return fmt.Errorf("invalid sample URL %q: want an http or https URL", s.SampleURL)
	}
	// The launch template's user data checks the daemon version; with a
	// stand-in region, since the region is checked on its own.
	if _, err := (userdata.Params{Region: "us-east-1", Arch: s.Arch, Version: s.DaemonVersion}).Normalize(); err != nil {
		return fmt.Errorf("invalid daemon version %q: want 3.x or a release such as 3.3.13", s.DaemonVersion)
	}
	return s.validateTracing()
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
