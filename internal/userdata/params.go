package userdata

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Params are the inputs of Build. Only Region and Arch are required; Params
// returned by Parse and Normalize have every default filled in.
type Params struct {
	// Agent is the tracing agent the host runs: AgentXRayDaemon (the
	// default) or AgentCloudWatch.
	Agent string `json:"agent,omitempty"`
	// Region is the AWS region of the stack, such as us-east-1 or cn-north-1;
	// the daemon is downloaded from that region's own bucket.
	Region string `json:"region"`
	// Partition is aws, aws-cn or aws-us-gov. Empty derives it from Region; a
	// value that does not match Region is an error.
	Partition string `json:"partition"`
	// Arch is the compute environment's architecture: x86_64 (or amd64) or
	// arm64 (or aarch64).
	Arch string `json:"arch"`
	// Version is the daemon version to install: 3.x (the default, the latest
	// 3 release) or a pinned release such as 3.3.13. X-Ray daemon only: the
	// CloudWatch agent is the one in Amazon Linux 2023's repository, and
	// Version stays empty.
	Version string `json:"version"`
	// Daemon, when set, makes the script write the daemon's config file and
	// restart it; nil keeps the RPM's defaults (127.0.0.1:2000). X-Ray
	// daemon only: the CloudWatch agent's addresses are fixed on loopback.
	Daemon *DaemonSettings `json:"daemon,omitempty"`
}

// DaemonSettings are the parts of the X-Ray daemon's config file batchxray
// sets. Zero fields take the daemon's defaults.
type DaemonSettings struct {
	// UDPAddress is where the daemon receives segments, host:port; default
	// 127.0.0.1:2000.
	UDPAddress string `json:"udpAddress"`
	// TCPAddress is the daemon's sampling proxy, host:port; default
	// 127.0.0.1:2000.
	TCPAddress string `json:"tcpAddress"`
	// LogLevel is one of dev, debug, info, warn, error, prod; default prod.
	LogLevel string `json:"logLevel"`
	// BufferMB is the daemon's TotalBufferSizeMB: 0 lets the daemon use 1% of
	// the host's memory, otherwise at least 3.
	BufferMB int `json:"bufferMB"`
}

// The agents a host can run.
const (
	// AgentXRayDaemon is the X-Ray daemon, from the region's
	// aws-xray-assets bucket (end of support 2027-02-25).
	AgentXRayDaemon = "xray-daemon"
	// AgentCloudWatch is the CloudWatch agent (package
	// amazon-cloudwatch-agent), receiving X-Ray segments on UDP
	// 127.0.0.1:2000 and OTLP on 127.0.0.1:4317 (gRPC) and 4318 (HTTP).
	AgentCloudWatch = "cloudwatch"
)

// DefaultVersion is the daemon version installed when Params.Version is
// empty: the newest release of the 3 line.
const DefaultVersion = "3.x"

const defaultDaemonAddress = "127.0.0.1:2000"

// The patterns compile on first use, not at init.
var (
	// Region names are <country>[-gov]-<direction>-<n>. The ISO partitions
	// are left out on purpose: their buckets are not reachable the same way.
	regionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]{1,2}$`) })
	// The 3 line is the one the version 2 config file belongs to.
	versionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^3\.(x|[0-9]+\.[0-9]+)$`) })
	hostRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`) })
	logLevels = []string{"dev", "debug", "info", "warn", "error", "prod"}
)

// Normalize validates p and returns it with every default filled in and
// synonyms replaced by their canonical spelling (amd64 becomes x86_64, aarch64
// becomes arm64). Build and Parse both go through it, so two Params that build
// the same document normalise to the same value.
func (p Params) Normalize() (Params, error) {
	var errs []string
	if p.Region == "" {
		errs = append(errs, "region is required")
	} else if !regionRE().MatchString(p.Region) {
		errs = append(errs, fmt.Sprintf("region %q is not a region name such as us-east-1", p.Region))
	} else {
		part := partitionOf(p.Region)
		switch {
		case p.Partition == "":
			p.Partition = part
		case p.Partition != "aws" && p.Partition != "aws-cn" && p.Partition != "aws-us-gov":
			errs = append(errs, fmt.Sprintf("partition %q is not one of aws, aws-cn, aws-us-gov", p.Partition))
		case p.Partition != part:
			errs = append(errs, fmt.Sprintf("partition %q does not match region %s, which is in %s", p.Partition, p.Region, part))
		}
	}

	switch p.Arch {
	case "x86_64", "amd64":
		p.Arch = "x86_64"
	case "arm64", "aarch64":
		p.Arch = "arm64"
	case "":
		errs = append(errs, "architecture is required (x86_64 or arm64)")
	default:
		errs = append(errs, fmt.Sprintf("architecture %q is not x86_64 or arm64", p.Arch))
	}

	switch p.Agent {
	case "", AgentXRayDaemon:
		p.Agent = AgentXRayDaemon
		if p.Version == "" {
			p.Version = DefaultVersion
		} else if !versionRE().MatchString(p.Version) {
			errs = append(errs, fmt.Sprintf("daemon version %q is not 3.x or a release such as 3.3.13", p.Version))
		}
	case AgentCloudWatch:
		if p.Version != "" {
			errs = append(errs, fmt.Sprintf("daemon version %q is for the X-Ray daemon, not the CloudWatch agent", p.Version))
		}
		if p.Daemon != nil {
			errs = append(errs, "daemon settings are for the X-Ray daemon, not the CloudWatch agent")
		}
	default:
		errs = append(errs, fmt.Sprintf("agent %q is not %s or %s", p.Agent, AgentXRayDaemon, AgentCloudWatch))
	}

	if p.Daemon != nil && p.Agent == AgentXRayDaemon {
		d, derrs := p.Daemon.normalize()
		errs = append(errs, derrs...)
		p.Daemon = &d
	}
	if len(errs) > 0 {
		// All problems at once, on one line, so they are fixed in one go.
		return Params{}, fmt.Errorf("user data parameters: %s", strings.Join(errs, "; "))
	}
	return p, nil
}

func (d DaemonSettings) normalize() (DaemonSettings, []string) {
	var errs []string
	if d.UDPAddress == "" {
		d.UDPAddress = defaultDaemonAddress
	} else if err := checkAddress(d.UDPAddress); err != nil {
		errs = append(errs, fmt.Sprintf("daemon UDP address: %v", err))
	}
	if d.TCPAddress == "" {
		d.TCPAddress = defaultDaemonAddress
	} else if err := checkAddress(d.TCPAddress); err != nil {
		errs = append(errs, fmt.Sprintf("daemon TCP address: %v", err))
	}
	if d.LogLevel == "" {
		d.LogLevel = "prod"
	} else if !slices.Contains(logLevels, d.LogLevel) {
		errs = append(errs, fmt.Sprintf("daemon log level %q is not one of %s", d.LogLevel, strings.Join(logLevels, ", ")))
	}
	// The daemon refuses buffers under 3 MB; 0 means its own default.
	if d.BufferMB < 0 || d.BufferMB > 0 && d.BufferMB < 3 {
		errs = append(errs, fmt.Sprintf("daemon buffer %d MB: use 0 for the daemon's default or at least 3", d.BufferMB))
	}
	return d, errs
}

// checkAddress accepts host:port with a numeric port in 1–65535 and a host
// that is an IP or a DNS name, which also keeps the value safe to paste into
// the script and the YAML config.
func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if host == "" || net.ParseIP(host) == nil && !hostRE().MatchString(host) {
		return fmt.Errorf("%q: host %q is not an IP address or host name", addr, host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}

// partitionOf assumes region already matched regionRE.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	default:
		return "aws"
	}
}

// rpmURL is the daemon's RPM in the region's own bucket; p must be normalised.
func (p Params) rpmURL() string {
	domain := "amazonaws.com"
	if p.Partition == "aws-cn" {
		domain = "amazonaws.com.cn"
	}
	file := "aws-xray-daemon-" + p.Version + ".rpm"
	if p.Arch == "arm64" {
		file = "aws-xray-daemon-arm64-" + p.Version + ".rpm"
	}
	return fmt.Sprintf("https://s3.%s.%s/aws-xray-assets.%s/xray-daemon/%s", p.Region, domain, p.Region, file)
}

// unameArch is what `uname -m` prints on a host of p's architecture.
func (p Params) unameArch() string {
	if p.Arch == "arm64" {
		return "aarch64"
	}
	return "x86_64"
}
