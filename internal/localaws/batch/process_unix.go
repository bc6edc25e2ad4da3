//go:build unix

package batch

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcessGroup puts the job in its own process group, so that stopping
// it reaches whatever it started too (sh -c 'sleep 60').
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func (p *process) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

func (p *process) kill() { p.signal(syscall.SIGKILL) }

func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
