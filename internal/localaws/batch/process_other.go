//go:build !unix

package batch

import (
	"os"
	"os/exec"
	"syscall"
)

// isolate does nothing here: without process groups, stopping a job stops
// its own process only, and a stand-in that is killed leaves it running.
func isolate(*exec.Cmd) error { return nil }

func (p *process) signal(sig syscall.Signal) {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

func (p *process) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
}

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }

// groupsRSS is known on Linux only (from /proc).
func groupsRSS() map[int]int64 { return nil }
