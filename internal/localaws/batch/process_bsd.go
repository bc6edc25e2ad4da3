//go:build unix && !linux

package batch

import (
	"os/exec"
	"syscall"
)

// isolate puts the job in its own process group, so that stopping it
// reaches whatever it started too (sh -c 'sleep 60'). Only Linux also ties
// the job's life to the stand-in's (Pdeathsig, see supervise_linux.go):
// here a stand-in killed with SIGKILL leaves its jobs running.
func isolate(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return nil
}

// groupsRSS is known on Linux only (from /proc).
func groupsRSS() map[int]int64 { return nil }
