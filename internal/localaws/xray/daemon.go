package xray

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
)

// daemonSlot holds a service's running daemon and the counters of what it
// stored, with a broadcast on every change so that tests and benchmarks
// wait for documents instead of sleeping.
type daemonSlot struct {
	mu      sync.Mutex
	d       *Daemon
	docs    int64
	changed chan struct{} // closed on the next change
}

// update changes counters under the lock and wakes every waiter.
func (ds *daemonSlot) update(f func()) {
	ds.mu.Lock()
	f()
	if ds.changed != nil {
		close(ds.changed)
		ds.changed = nil
	}
	ds.mu.Unlock()
}

// wait blocks until cond, checked under the lock, holds or ctx ends.
func (ds *daemonSlot) wait(ctx context.Context, cond func() bool) error {
	for {
		ds.mu.Lock()
		if cond() {
			ds.mu.Unlock()
			return nil
		}
		if ds.changed == nil {
			ds.changed = make(chan struct{})
		}
		ch := ds.changed
		ds.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Ingested is how many documents the service has stored so far, from
// PutTraceSegments and the daemon alike.
func (s *Service) Ingested() int64 {
	s.daemon.mu.Lock()
	defer s.daemon.mu.Unlock()
	return s.daemon.docs
}

// WaitIngested blocks until the service has stored at least n documents in
// all, or ctx ends.
func (s *Service) WaitIngested(ctx context.Context, n int64) error {
	if err := s.daemon.wait(ctx, func() bool { return s.daemon.docs >= n }); err != nil {
		return fmt.Errorf("wait for %d X-Ray documents (have %d): %w", n, s.Ingested(), err)
	}
	return nil
}

// Daemon is the stand-in's X-Ray daemon: segment documents over UDP in the
// daemon's wire format, and over TCP on the same port the sampling calls
// the X-Ray SDKs send through the daemon's proxy, unsigned.
type Daemon struct {
	svc  *Service
	udp  *net.UDPConn
	tcp  net.Listener
	http *http.Server
	wg   sync.WaitGroup

	// Counted under svc.daemon.mu.
	received, ingested, dropped int64

	closeOnce sync.Once
}

// DaemonStats counts the datagrams a daemon has seen: every one received,
// those whose document was stored, and those dropped (malformed, too large,
// or refused by X-Ray's validation).
type DaemonStats struct {
	Received int64
	Ingested int64
	Dropped  int64
}

// daemonHeader is the line every datagram starts with.
type daemonHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// StartDaemon listens on addr (host:port; port 0 picks a free one) for UDP
// and TCP on the same port, as the real daemon does. A service runs one
// daemon at a time.
func (s *Service) StartDaemon(addr string) (*Daemon, error) {
	s.daemon.mu.Lock()
	defer s.daemon.mu.Unlock()
	if s.daemon.d != nil {
		return nil, fmt.Errorf("the X-Ray daemon already listens on %s", s.daemon.d.Addr())
	}
	udp, tcp, err := listenPair(addr)
	if err != nil {
		return nil, err
	}
	// Bursts from many jobs arrive faster than one reader drains them;
	// a larger socket buffer keeps the kernel from dropping them.
	_ = udp.SetReadBuffer(4 << 20)
	d := &Daemon{svc: s, udp: udp, tcp: tcp}
	mux := http.NewServeMux()
	mux.Handle("POST /GetSamplingRules", s)
	mux.Handle("POST /SamplingTargets", s)
	d.http = &http.Server{Handler: mux}
	d.wg.Add(2)
	go func() {
		defer d.wg.Done()
		d.readUDP()
	}()
	go func() {
		defer d.wg.Done()
		_ = d.http.Serve(tcp)
	}()
	s.daemon.d = d
	return d, nil
}

// listenPair binds UDP and TCP on the same port. With port 0 the UDP port is
// chosen first and TCP tries it, again with a new port if TCP's is taken.
func listenPair(addr string) (*net.UDPConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("daemon address %q: %w", addr, err)
	}
	var lastErr error
	for range 20 {
		uaddr, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("daemon address %q: %w", addr, err)
		}
		udp, err := net.ListenUDP("udp", uaddr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen on UDP %s: %w", addr, err)
		}
		bound := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(bound)))
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		lastErr = err
		if port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("listen on TCP beside UDP at %s: %w", addr, lastErr)
}

func (d *Daemon) readUDP() {
	// One byte more than a datagram may hold tells an oversized one apart.
	buf := make([]byte, MaxDocumentSize+1)
	for {
		n, _, err := d.udp.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		reason := d.handle(buf[:n])
		if reason != "" {
			d.svc.env.Logger.Debug("xray daemon dropped a datagram", "reason", reason, "bytes", n)
		}
		d.svc.daemon.update(func() {
			d.received++
			if reason != "" {
				d.dropped++
				return
			}
			d.ingested++
			d.svc.daemon.docs++
		})
	}
}

// handle ingests one datagram, or says why it was dropped.
func (d *Daemon) handle(p []byte) string {
	if len(p) > MaxDocumentSize {
		return fmt.Sprintf("larger than %d bytes", MaxDocumentSize)
	}
	head, doc, ok := bytes.Cut(p, []byte("\n"))
	if !ok {
		return "no header line"
	}
	var h daemonHeader
	if err := json.Unmarshal(head, &h); err != nil {
		return "header is not JSON: " + err.Error()
	}
	if h.Format != "json" || h.Version != 1 {
		return fmt.Sprintf("header has format %q version %d, want json version 1", h.Format, h.Version)
	}
	if err := d.svc.ingest(doc); err != nil {
		return err.Error()
	}
	return ""
}

// Addr is the address the daemon listens on, UDP and TCP alike.
func (d *Daemon) Addr() string { return d.udp.LocalAddr().String() }

// Stats counts the datagrams seen so far.
func (d *Daemon) Stats() DaemonStats {
	d.svc.daemon.mu.Lock()
	defer d.svc.daemon.mu.Unlock()
	return DaemonStats{Received: d.received, Ingested: d.ingested, Dropped: d.dropped}
}

// WaitReceived blocks until the daemon has handled (stored or dropped) at
// least n datagrams, or ctx ends.
func (d *Daemon) WaitReceived(ctx context.Context, n int64) error {
	if err := d.svc.daemon.wait(ctx, func() bool { return d.received >= n }); err != nil {
		return fmt.Errorf("wait for %d datagrams (have %+v): %w", n, d.Stats(), err)
	}
	return nil
}

// Close stops both listeners and waits for them.
func (d *Daemon) Close() error {
	d.closeOnce.Do(func() {
		_ = d.udp.Close()
		_ = d.http.Close()
		d.wg.Wait()
		d.svc.daemon.mu.Lock()
		if d.svc.daemon.d == d {
			d.svc.daemon.d = nil
		}
		d.svc.daemon.mu.Unlock()
	})
	return nil
}

// Daemon is the running daemon, or nil.
func (s *Service) Daemon() *Daemon {
	s.daemon.mu.Lock()
	defer s.daemon.mu.Unlock()
	return s.daemon.d
}
