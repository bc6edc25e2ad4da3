package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/batchxray/batchxray/internal/jobrunner/daemonenv"
)

// Options configure one run of the job.
type Options struct {
	// ServiceName names the segment.
	ServiceName string
	// SampleRate is the share of jobs traced; 1 traces every one.
	SampleRate float64
	// JobName is the job's name, which Batch does not put in the
	// environment; our job definition passes it.
	JobName string
	// Version is the binary's version, recorded on the segment.
	Version string
	// Tracer is TracerXRay (also when empty) or TracerOTel. Any other name
	// is one line on Stderr, and the job runs untraced.
	Tracer string
	// OTLPEndpoint, for TracerOTel, sends the spans straight to this
	// OTLP/HTTP traces URL, such as X-Ray's
	// https://xray.us-east-1.amazonaws.com/v1/traces, SigV4-signed for
	// service xray with AWSConfig's credentials. Empty sends them unsigned to
	// the agent at OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
	// OTEL_EXPORTER_OTLP_ENDPOINT plus /v1/traces, or the host's
	// http://127.0.0.1:4318.
	OTLPEndpoint string

	// Command, when set, is the user's command, run instead of the sample
	// work.
	Command []string

	// URLs are fetched in order by the sample work; each body is then put
	// to Bucket under jobs/<job ID>/ unless NoUpload.
	URLs     []string
	Bucket   string
	NoUpload bool
	// AWSConfig loads the AWS configuration for the upload. The job
	// instruments a copy of it.
	AWSConfig func(context.Context) (aws.Config, error)
	// HTTPClient is the client the sample work fetches with, before
	// tracing is added; nil means http.DefaultClient.
	HTTPClient *http.Client

	// Environ is the job's environment (os.Environ()): the AWS_BATCH_*
	// variables, AWS_XRAY_DAEMON_ADDRESS, and the wrapped command's
	// environment.
	Environ []string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer

	// Signals delivers SIGTERM and SIGINT; nil means the process's own.
	Signals <-chan os.Signal
	// Grace is how long the wrapped command has to exit after SIGTERM
	// before it is killed; Batch kills the container 30 s after its own
	// SIGTERM, and the trace must be sent before that.
	Grace time.Duration
}

// DefaultGrace is the Grace the command uses.
const DefaultGrace = 10 * time.Second

// CommandExitError is a wrapped command that did not exit 0. Code is its
// exit status, or 128 plus the signal that killed it, as a shell reports it.
type CommandExitError struct {
	Code  int
	State string
}

func (e *CommandExitError) Error() string { return "command failed: " + e.State }

// startError is a wrapped command that could not be started: exit 127, as
// in a shell.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// ExitCode is the shell's code for a command that could not be run.
func (e *startError) ExitCode() int { return 127 }

// signalError is the job stopped by a signal: SIGTERM (Batch's timeout or
// terminate) exits 143 and SIGINT 130, as a shell reports them.
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string {
	if e.sig == syscall.SIGTERM {
		return "terminated"
	}
	return "interrupted"
}

// ExitCode is 128 plus the signal number.
func (e *signalError) ExitCode() int { return 128 + int(e.sig) }

// Run runs the job and returns nil if it succeeded. It prints its trace ID
// and daemon address on Stderr first. A failed step returns its error (exit
// 1); a wrapped command that fails returns a *CommandExitError; a signal
// returns an error whose ExitCode method gives 143 or 130. Whatever
// happens, every span is closed and the trace sent before Run returns.
func Run(ctx context.Context, o Options) error {
	raw, _ := lookupEnv(o.Environ, daemonenv.Name)
	daemon, err := resolveDaemonAddress(raw)
	if err != nil {
		return err
	}
	if len(o.Command) == 0 && len(o.URLs) == 0 {
		return errors.New("nothing to do: no URL to fetch and no command to run")
	}
	if len(o.Command) == 0 && !o.NoUpload && o.Bucket == "" {
		return errors.New("no bucket to upload to")
	}
	sigs := o.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
		defer signal.Stop(ch)
		sigs = ch
	}
	r := &runner{o: o, daemon: daemon, sigs: sigs, job: readBatchJob(o.Environ, o.JobName)}
	switch o.Tracer {
	case "", TracerXRay:
		t, err := newXRayTracer(daemon.UDP, o.SampleRate, o.Version)
		if err != nil {
			return err
		}
		r.t, r.dest = t, "the X-Ray daemon at udp "+daemon.UDP.String()
		r.probe = true
	case TracerOTel:
		t, endpoint, err := r.newOTelTracerFor(ctx)
		if err != nil {
			r.logf("warning: %v; the job runs untraced", err)
			r.t = noTracer{}
			break
		}
		r.t, r.dest = t, "OTLP "+endpoint
	default:
		r.logf("warning: unknown tracer %q (want %s or %s); the job runs untraced", o.Tracer, TracerXRay, TracerOTel)
		r.t = noTracer{}
	}
	return r.run(ctx)
}

type runner struct {
	o Options
	t tracer
	// dest says where the trace goes; probe whether to check the daemon.
	dest   string
	probe  bool
	daemon daemonAddress
	sigs   <-chan os.Signal
	job    batchJob
}

func (r *runner) logf(format string, a ...any) {
	fmt.Fprintf(r.o.Stderr, "batchxray job: "+format+"\n", a...)
}

func (r *runner) run(ctx context.Context) error {
	if r.job.Local {
		r.logf("not in AWS Batch (AWS_BATCH_JOB_ID is unset): job ID %s", r.job.ID)
	}
	// The job's work must not stop because the caller's context does:
	// signals are handled here, so the trace can be closed first.
	ctx = context.WithoutCancel(ctx)
	if r.probe {
		if err := probeDaemon(ctx, r.daemon.TCP); err != nil {
			r.logf("warning: nothing answers at the X-Ray daemon's address %s (%v); is the daemon running? This trace may be lost", r.daemon.TCP, err)
		}
	}

	var parent *traceHeader
	if raw, ok := lookupEnv(r.o.Environ, traceHeaderEnv); ok && raw != "" {
		h, err := parseTraceHeader(raw)
		if err != nil {
			r.logf("warning: %v; the job starts a trace of its own", err)
		} else {
			parent = &h
		}
	}
	ctx, root := r.t.Begin(ctx, r.o.ServiceName, parent)
	joined := ""
	if parent != nil {
		joined = " (joined from " + traceHeaderEnv + ")"
	}
	switch {
	case root.Sampled():
		r.logf("trace %s%s for job %s, sent to %s", root.TraceID(), joined, r.job.ID, r.dest)
	case r.dest == "":
		r.logf("no trace for job %s", r.job.ID)
	case root.TraceID() == "":
		r.logf("tracing is off (AWS_XRAY_SDK_DISABLED=true): no trace for job %s", r.job.ID)
	default:
		r.logf("job %s is not sampled (--sample-rate %g): no trace", r.job.ID, r.o.SampleRate)
	}
	annotations := r.job.annotations()
	for _, k := range sortedKeys(annotations) {
		root.Annotate(k, annotations[k])
	}
	root.Metadata("version", r.o.Version)
	root.Metadata("environment", r.job.Env)
	// Sent now, not only at the end: a job killed by SIGKILL (out of
	// memory, Spot reclaimed) never reaches End.
	root.SendInProgress()

	var err error
	if len(r.o.Command) > 0 {
		err = r.wrap(ctx)
	} else {
		err = r.sample(ctx)
	}
	root.End(err)
	return err
}

// watchSignals cancels ctx with a *signalError on the first SIGTERM or
// SIGINT, until stop is called.
func (r *runner) watchSignals(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-r.sigs:
			cancel(&signalError{sig: toSyscall(s)})
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel(nil) }
}

func toSyscall(s os.Signal) syscall.Signal {
	if ss, ok := s.(syscall.Signal); ok {
		return ss
	}
	return syscall.SIGINT // os.Interrupt is SIGINT where it is not a syscall.Signal
}
