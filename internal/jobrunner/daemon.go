package jobrunner

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/jobrunner/daemonenv"
)

// defaultDaemonAddress is where the daemon listens on a Batch host: single
// container jobs on EC2 share the host's network.
const defaultDaemonAddress = "127.0.0.1:2000"

// daemonAddress is where the X-Ray daemon takes segments (UDP) and sampling
// calls (TCP).
type daemonAddress struct {
	// Raw is the address as given, passed on to a wrapped command.
	Raw string
	UDP *net.UDPAddr
	TCP *net.TCPAddr
}

// resolveDaemonAddress parses an AWS_XRAY_DAEMON_ADDRESS value ("" means the
// default). It accepts exactly what the SDK accepts, "host:port" or
// "tcp:host:port udp:host:port" in either order, so a value that passes here
// can never make the SDK fail, and it says what was expected otherwise.
func resolveDaemonAddress(s string) (daemonAddress, error) {
	if s == "" {
		s = defaultDaemonAddress
	}
	bad := func(why string) error {
		return fmt.Errorf("invalid %s %q: %s; want host:port or \"tcp:host:port udp:host:port\"", daemonenv.Name, s, why)
	}
	var udp, tcp string
	switch parts := strings.Split(s, " "); len(parts) {
	case 1:
		udp, tcp = parts[0], parts[0]
		if err := checkHostPort(udp); err != nil {
			return daemonAddress{}, bad(err.Error())
		}
	case 2:
		for _, p := range parts {
			proto, hp, ok := strings.Cut(p, ":")
			if !ok {
				return daemonAddress{}, bad(fmt.Sprintf("%q has no tcp: or udp: prefix", p))
			}
			if err := checkHostPort(hp); err != nil {
				return daemonAddress{}, bad(err.Error())
			}
			switch proto {
			case "udp":
				udp = hp
			case "tcp":
				tcp = hp
			default:
				return daemonAddress{}, bad(fmt.Sprintf("%q has no tcp: or udp: prefix", p))
			}
		}
		if udp == "" || tcp == "" {
			return daemonAddress{}, bad("one tcp: and one udp: address are needed")
		}
	default:
		return daemonAddress{}, bad("too many spaces")
	}
	ua, err := net.ResolveUDPAddr("udp", udp)
	if err != nil {
		return daemonAddress{}, bad(err.Error())
	}
	ta, err := net.ResolveTCPAddr("tcp", tcp)
	if err != nil {
		return daemonAddress{}, bad(err.Error())
	}
	return daemonAddress{Raw: s, UDP: ua, TCP: ta}, nil
}

// checkHostPort holds host:port to the SDK's own rule: exactly one colon (no
// IPv6 literals) and a numeric port.
func checkHostPort(hp string) error {
	host, port, ok := strings.Cut(hp, ":")
	if !ok || strings.Contains(port, ":") {
		return fmt.Errorf("%q is not host:port", hp)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", hp)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has no valid port", hp)
	}
	return nil
}

// probeTimeout bounds the start-up check: a daemon on the host answers in
// well under a millisecond.
const probeTimeout = 300 * time.Millisecond

// probeDaemon reports whether something accepts TCP connections on the
// daemon's TCP address. The daemon serves sampling there; nothing answering
// usually means no daemon, and segments sent over UDP vanish without a word.
func probeDaemon(ctx context.Context, a *net.TCPAddr) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", a.String())
	if err != nil {
		return err
	}
	return c.Close()
}
