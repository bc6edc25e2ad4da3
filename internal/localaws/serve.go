package localaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/xray"
)

// shutdownGrace is how long requests in flight get to finish once Serve's
// context is cancelled.
const shutdownGrace = 5 * time.Second

// Listen says where Serve listens and whom it tells.
type Listen struct {
	// Addr is where the AWS endpoint listens; port 0 picks a free one.
	Addr string
	// DaemonAddr is where the X-Ray daemon listens (UDP and TCP).
	DaemonAddr string
	// OTLPAddr is where the host agent's OTLP/HTTP receiver listens; ""
	// starts none.
	OTLPAddr string
	// OTLPRequired makes a taken OTLPAddr an error; otherwise, as for a
	// default port that another stand-in or agent holds, Serve warns and
	// serves without the receiver.
	OTLPRequired bool
	// ReadyFile, if set, receives the endpoint URL once it listens, for
	// scripts that start the stand-in in the background; it is removed on
	// return.
	ReadyFile string
	// Log receives the lines that say what is served and how to use it.
	Log io.Writer
	// OnReady, if set, is called with the endpoint URL once it serves.
	OnReady func(endpoint string)
}

// Serve is `batchxray local`: it serves a stand-in with opts on l's
// addresses until ctx is cancelled, then gives requests in flight a grace
// to finish and stops the stand-in (and the jobs it runs).
func Serve(ctx context.Context, opts Options, l Listen) error {
	if opts.AllowRemote {
		fmt.Fprintf(l.Log, "batchxray local: warning: --allow-remote: anyone who can reach %s can run commands on this machine\n", l.Addr)
	}
	ln, err := net.Listen("tcp", l.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("listen on %s: address already in use (is another batchxray local running? use --addr)", l.Addr)
		}
		return fmt.Errorf("listen on %s: %w", l.Addr, err)
	}
	defer func() { _ = ln.Close() }()

	srv := New(opts)
	// Closed once, on every path: the services' stop funcs need not be
	// idempotent.
	closeSrv := sync.OnceValue(srv.Close)
	defer func() { _ = closeSrv() }()
	endpoint := "http://" + ln.Addr().String()
	srv.SetEndpoint(endpoint)

	daemonAddr, err := srv.StartDaemon(l.DaemonAddr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("start the X-Ray daemon on %s: address already in use (is another batchxray local or X-Ray daemon running? use --daemon-addr)", l.DaemonAddr)
		}
		return err
	}

	otlpAddr := ""
	if l.OTLPAddr != "" {
		otlpAddr, err = srv.StartOTLP(l.OTLPAddr)
		if err != nil && (l.OTLPRequired || !errors.Is(err, syscall.EADDRINUSE)) {
			return err
		}
		if err != nil {
			fmt.Fprintf(l.Log, "batchxray local: warning: %s is in use, so no OTLP receiver (use --otlp-addr)\n", l.OTLPAddr)
		}
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	if l.ReadyFile != "" {
		if err := writeReadyFile(l.ReadyFile, endpoint); err != nil {
			_ = hs.Close()
			return err
		}
		defer func() { _ = os.Remove(l.ReadyFile) }()
	}
	fmt.Fprintf(l.Log, "batchxray local: serving AWS on %s, X-Ray daemon on %s (UDP and TCP)\n"+
		"export AWS_ENDPOINT_URL=%s AWS_REGION=%s AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local\n"+
		"Press Ctrl-C to stop.\n",
		endpoint, daemonAddr, endpoint, srv.Options().Region)
	if otlpAddr != "" {
		fmt.Fprintf(l.Log, "batchxray local: OTLP/HTTP receiver on http://%s%s\n", otlpAddr, xray.OTLPPath)
	}
	if l.OnReady != nil {
		l.OnReady(endpoint)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", endpoint, err)
	case <-ctx.Done():
	}
	// The parent context is cancelled: give requests in flight their own
	// deadline to finish.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := closeSrv(); err != nil {
		return fmt.Errorf("stop the stand-in: %w", err)
	}
	fmt.Fprintln(l.Log, "batchxray local: stopped")
	return nil
}

// writeReadyFile writes the endpoint through a rename, so a script polling
// for the file never reads it half-written.
func writeReadyFile(path, endpoint string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	_, werr := tmp.WriteString(endpoint + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write ready file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write ready file %s: %w", path, err)
	}
	return nil
}
