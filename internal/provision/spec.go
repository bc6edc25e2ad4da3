package provision

import (
	"errors"
	"fmt"
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
	return s.validateTracing()
}
