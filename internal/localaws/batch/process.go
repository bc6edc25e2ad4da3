package batch

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/imagefs"
)

// process is one job attempt running as a local process.
type process struct {
	cmd  *exec.Cmd
	out  *lineWriter
	errw *lineWriter
}

// DefaultExecutable is the path this process was started as: os.Args[0],
// looked up in PATH when it has no slash. It is not os.Executable, which
// resolves symlinks: a multi-call binary (or a test binary behind a
// batchxray symlink) is told which command to run by argv[0] alone.
func DefaultExecutable() string {
	arg0 := os.Args[0]
	if !strings.ContainsRune(arg0, filepath.Separator) {
		if p, err := exec.LookPath(arg0); err == nil {
			arg0 = p
		}
	}
	if abs, err := filepath.Abs(arg0); err == nil {
		return abs
	}
	return arg0
}

// launch starts the container's argv on the host. The word batchxray as
// argv[0] is the stand-in's own binary; in a checked image (see
// containerFor) so is any path ending in /batchxray, and anything else is
// run by its name. The environment is environment's. Each line the process
// writes becomes a log event in the job's stream.
func (s *Service) launch(j *job, c container, stream string) (*process, error) {
	if len(c.argv) == 0 {
		return nil, errors.New("the job has no command")
	}
	name := c.argv[0]
	if c.checked {
		name = hostName(name)
	}
	if name == "batchxray" {
		name = s.cfg.Executable
	}
	cmd := exec.Command(name, c.argv[1:]...)
	cmd.Env = s.environment(j, c)
	if err := isolate(cmd); err != nil {
		return nil, err
	}
	// A grandchild that keeps the output open must not hold the job.
	cmd.WaitDelay = 5 * time.Second
	var mu sync.Mutex
	emit := func(line string) {
		if s.cfg.Logs != nil {
			s.cfg.Logs.Write(j.logGroup, stream, s.env.Clock.Now(), line)
		}
	}
	p := &process{cmd: cmd, out: &lineWriter{mu: &mu, emit: emit}, errw: &lineWriter{mu: &mu, emit: emit}}
	cmd.Stdout, cmd.Stderr = p.out, p.errw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// environment is the container's environment as Batch and ECS give it, and
// no more: the job's variables (the job definition's, then the submit's
// overrides), Batch's AWS_BATCH_* ones, and ECS's credentials for the job,
// here the stand-in's static ones in place of the agent's credential
// endpoint. There is no AWS_REGION unless the job definition sets it: an
// ECS agent does not always give one, so a job that needs it must carry it.
// A checked image's own environment comes first, as Docker gives it, with
// its PATH (the default one when it sets none). Three variables play the
// host's part, as the stand-in is the job's host: PATH (for an image it
// cannot read the host's, as the job runs on it; for a checked one the
// image's directories in its host view, see containerFor), AWS_ENDPOINT_URL (AWS
// itself is the stand-in) and AWS_XRAY_DAEMON_ADDRESS (on a Batch host the
// daemon is at 127.0.0.1:2000, the SDK's default; the stand-in's listens
// elsewhere).
func (s *Service) environment(j *job, c container) []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	if c.checked {
		env = append([]string{"PATH=" + imagefs.PathFromEnv(c.imageEnv)}, c.imageEnv...)
	}
	for _, kv := range j.env {
		env = append(env, kv.Name+"="+kv.Value)
	}
	if c.path != "" {
		env = append(env, "PATH="+c.path) // the image's PATH in its host view (containerFor)
	}
	id := j.d.JobID
	env = append(env,
		"AWS_BATCH_JOB_ID="+id,
		"AWS_BATCH_JOB_ATTEMPT="+strconv.Itoa(len(j.d.Attempts)+1),
		"AWS_BATCH_JQ_NAME="+j.queue.d.JobQueueName,
		"AWS_BATCH_CE_NAME="+j.ce.d.ComputeEnvironmentName,
		"AWS_ACCESS_KEY_ID=batchxray-local",
		"AWS_SECRET_ACCESS_KEY=batchxray-local",
	)
	if j.d.ArrayProperties != nil && j.d.ArrayProperties.Index != nil {
		env = append(env, "AWS_BATCH_JOB_ARRAY_INDEX="+strconv.Itoa(int(*j.d.ArrayProperties.Index)))
	}
	if ep := s.cfg.Endpoint(); ep != "" {
		env = append(env, "AWS_ENDPOINT_URL="+ep)
	}
	if addr := s.cfg.DaemonAddr(); addr != "" {
		env = append(env, "AWS_XRAY_DAEMON_ADDRESS="+addr)
	}
	if s.cfg.OTLPAddr != nil && s.cfg.OTLPAddr() != "" {
		env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+s.cfg.OTLPAddr()) // the host agent's OTLP receiver, as the daemon above
	}
	return env
}

// wait waits for the process and its output, and returns its exit code as
// a container reports it: 128+n when signal n ended it.
func (p *process) wait() int {
	err := p.cmd.Wait()
	p.out.flush()
	p.errw.flush()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCode(ee.ProcessState)
	}
	if p.cmd.ProcessState != nil {
		return exitCode(p.cmd.ProcessState)
	}
	return -1
}

// lineWriter turns a stream of output into lines; stdout and stderr share
// its mutex, so their lines interleave whole.
type lineWriter struct {
	mu   *sync.Mutex
	buf  []byte
	emit func(string)
}

// maxLine is where a line without newline is cut, as the awslogs driver
// cuts at its buffer size.
const maxLine = 16 * 1024

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) >= maxLine {
				w.emit(string(w.buf[:maxLine]))
				w.buf = w.buf[maxLine:]
				continue
			}
			return len(b), nil
		}
		w.emit(strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}
