package batch

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// supervisorArg0 is the argv[0] under which the stand-in's own binary runs
// as a job's supervisor (see isolate).
const supervisorArg0 = "batchxray-local-job"

// The supervisor is the stand-in's binary run again, so the check must come
// before main, in every binary that links the stand-in (batchxray and the
// test binaries that start it in-process). It looks at argv[0] only: in any
// other process it does nothing.
func init() {
	if len(os.Args) >= 3 && os.Args[0] == supervisorArg0 {
		os.Exit(supervise(os.Args[1], os.Args[2:]))
	}
}

// isolate has the job run under a supervisor that the kernel signals
// (Pdeathsig) when the stand-in ends, however it ends (kill -9 included),
// and which then kills the job's process group: the job, and whatever it
// started, as the end of a task's PID namespace ends every process in the
// container on AWS. Pdeathsig alone would reach the job's own process only,
// not a wrapper's children (batchxray job -- sh -c 'sleep 600 & ...').
//
// The job's process group is the one the supervisor starts in (its ID is
// the supervisor's PID, so the stand-in signals it as before); the
// supervisor leaves it once the job is in it, so that what ends the group
// (a terminate, a memory kill, Close) does not end the supervisor before
// it has reaped the job, and its own memory is not the job's.
//
// The kernel sends Pdeathsig when the thread that started the child ends;
// Go ends a thread only under a goroutine that locked it and exited, which
// the stand-in's never do.
//
// The command is looked up here, as exec would look it up on Start, so a
// job that cannot start still fails to start (CannotStartContainerError)
// rather than as the supervisor's exit.
func isolate(cmd *exec.Cmd) error {
	if cmd.Err != nil {
		return cmd.Err
	}
	if _, err := exec.LookPath(cmd.Path); err != nil {
		return err
	}
	cmd.Args = append([]string{supervisorArg0, cmd.Path}, cmd.Args...)
	cmd.Path = "/proc/self/exe"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGHUP}
	return nil
}

// supervise runs the job (path, argv) with the environment it was given,
// as it was given, and returns the job's exit code, 128+n when signal n
// ended it, as the stand-in reads a container's. When the job's own process
// ends, so does the rest of its group, as a container's processes end with
// it. SIGHUP from a parent that is no longer there is the stand-in's end.
func supervise(path string, argv []string) int {
	standIn := os.Getppid()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	if os.Getppid() != standIn {
		return 128 + int(syscall.SIGHUP) // gone before the job started
	}
	env, err := startEnviron()
	if err != nil {
		fmt.Fprintf(os.Stderr, "batchxray local: %v\n", err)
		return 127
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Env: env, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "batchxray local: %v\n", err)
		return 127
	}
	group := os.Getpid()
	if pg, err := syscall.Getpgid(standIn); err == nil {
		_ = syscall.Setpgid(0, pg)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	for {
		select {
		case <-done:
			_ = syscall.Kill(-group, syscall.SIGKILL)
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return cmd.ProcessState.ExitCode()
		case s := <-sigs:
			if s == syscall.SIGHUP && os.Getppid() != standIn {
				_ = syscall.Kill(-group, syscall.SIGKILL)
			}
		}
	}
}

// startEnviron is the environment this process was started with, read from
// /proc: the job's, byte for byte, whatever a package's init has done to
// the process's own copy since (daemonenv hides AWS_XRAY_DAEMON_ADDRESS).
func startEnviron() ([]string, error) {
	b, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return nil, fmt.Errorf("read the job's environment: %w", err)
	}
	var env []string
	for kv := range bytes.SplitSeq(b, []byte{0}) {
		if len(kv) > 0 {
			env = append(env, string(kv))
		}
	}
	return env, nil
}
