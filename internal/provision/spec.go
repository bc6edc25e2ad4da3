package provision

import (
	"errors"
	"fmt"
	"time"
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
