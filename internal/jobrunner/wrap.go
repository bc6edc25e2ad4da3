package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/batchxray/batchxray/internal/jobrunner/daemonenv"
)

// processUsage is what the wrapped command cost, kept as the subsegment's
// metadata.
type processUsage struct {
	ExitCode int `json:"exit_code"`
	// Signal names the signal that killed the command, if one did.
	Signal           string  `json:"signal,omitempty"`
	WallSeconds      float64 `json:"wall_seconds"`
	UserCPUSeconds   float64 `json:"user_cpu_seconds"`
	SystemCPUSeconds float64 `json:"system_cpu_seconds"`
	// MaxRSSBytes is the peak resident set size; 0 where unknown.
	MaxRSSBytes int64 `json:"max_rss_bytes"`
}

// wrap runs the user's command under a subsegment named after it. The child
// gets the standard streams, the trace header with the subsegment as parent,
// and the daemon's address. SIGTERM and SIGINT are passed on; after SIGTERM
// the child has Grace to exit before it is killed, and the job reports
// termination whatever the child's own code.
func (r *runner) wrap(ctx context.Context) error {
	argv := r.o.Command
	_, sp := r.t.BeginChild(ctx, filepath.Base(argv[0]))
	sp.Metadata("command", argv)

	c := exec.Command(argv[0], argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = r.o.Stdin, r.o.Stdout, r.o.Stderr
	c.Env = append(append([]string(nil), r.o.Environ...), daemonenv.Name+"="+r.daemon.Raw)
	if h := sp.Header(); h != "" {
		c.Env = append(c.Env, "_X_AMZN_TRACE_ID="+h)
	}
	// With in-memory streams a grandchild holding a pipe could keep Wait
	// waiting for ever; a process that has exited gets this long.
	c.WaitDelay = time.Second
	start := time.Now()
	if err := c.Start(); err != nil {
		err = &startError{fmt.Errorf("start %q: %w", argv[0], err)}
		sp.End(err)
		return err
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()

	var (
		term    bool
		kill    <-chan time.Time
		waitErr error
	)
wait:
	for {
		select {
		case waitErr = <-waited:
			break wait
		case s := <-r.sigs:
			_ = c.Process.Signal(s)
			if toSyscall(s) == syscall.SIGTERM && !term {
				term = true
				kill = time.After(r.grace())
			}
		case <-kill:
			r.logf("%s did not exit %s after SIGTERM: killing it", argv[0], r.grace())
			_ = c.Process.Kill()
			kill = nil
		}
	}
	wall := time.Since(start)

	u := usage(c.ProcessState, wall)
	sp.Metadata("process", u)
	var err error
	var ee *exec.ExitError
	switch {
	case term:
		err = &signalError{sig: syscall.SIGTERM}
	case waitErr != nil && !errors.As(waitErr, &ee):
		// The command ran but its output could not be copied.
		err = fmt.Errorf("run %q: %w", argv[0], waitErr)
	case u.ExitCode != 0:
		err = &CommandExitError{Code: u.ExitCode, State: c.ProcessState.String()}
	}
	sp.End(err)
	return err
}

func (r *runner) grace() time.Duration {
	if r.o.Grace > 0 {
		return r.o.Grace
	}
	return DefaultGrace
}

func usage(ps *os.ProcessState, wall time.Duration) processUsage {
	u := processUsage{
		ExitCode:         ps.ExitCode(),
		WallSeconds:      wall.Seconds(),
		UserCPUSeconds:   ps.UserTime().Seconds(),
		SystemCPUSeconds: ps.SystemTime().Seconds(),
		MaxRSSBytes:      maxRSS(ps),
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		u.Signal = ws.Signal().String()
		u.ExitCode = 128 + int(ws.Signal())
	}
	return u
}
