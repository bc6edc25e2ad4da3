//go:build unix && !linux

package batch

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the job in its own process group, so that stopping
// it reaches whatever it started too (sh -c 'sleep 60'). Only Linux can
// also tie the job's life to the stand-in's (Pdeathsig).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// groupRSS is known on Linux only (from /proc).
func groupRSS(int) (int64, bool) { return 0, false }
