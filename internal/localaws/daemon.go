package localaws

import (
	"fmt"

	"github.com/batchxray/batchxray/internal/localaws/xray"
)

// StartDaemon starts the X-Ray daemon on addr (UDP and TCP on the same
// port; port 0 picks a free one) and returns the address it listens on.
// Close stops it.
func (s *Server) StartDaemon(addr string) (string, error) {
	d, err := s.xray.StartDaemon(addr)
	if err != nil {
		return "", fmt.Errorf("start the X-Ray daemon: %w", err)
	}
	s.mu.Lock()
	s.closers = append(s.closers, func() { _ = d.Close() })
	s.mu.Unlock()
	return d.Addr(), nil
}

// DaemonAddr is the address the X-Ray daemon listens on, or "" before
// StartDaemon.
func (s *Server) DaemonAddr() string {
	if d := s.Daemon(); d != nil {
		return d.Addr()
	}
	return ""
}

// Daemon is the running X-Ray daemon, for its counters, or nil.
func (s *Server) Daemon() *xray.Daemon {
	return s.xray.Daemon()
}

// XRay is the stand-in's X-Ray service, for tests that wait until the
// daemon has stored what was sent (XRay().WaitIngested).
func (s *Server) XRay() *xray.Service {
	return s.xray
}

// StartOTLP starts the host agent's OTLP/HTTP receiver on addr (port 0
// picks a free one), which stores every span it is sent as X-Ray segments,
// and returns the address it listens on. Close stops it.
func (s *Server) StartOTLP(addr string) (string, error) {
	o, err := s.xray.StartOTLP(addr)
	if err != nil {
		return "", fmt.Errorf("start the OTLP receiver: %w", err)
	}
	s.mu.Lock()
	s.otlp = o
	s.closers = append(s.closers, func() { _ = o.Close() })
	s.mu.Unlock()
	return o.Addr(), nil
}

// OTLPAddr is the address the OTLP receiver listens on, or "" before
// StartOTLP.
func (s *Server) OTLPAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.otlp == nil {
		return ""
	}
	return s.otlp.Addr()
}
