package batch

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the job in its own process group, so that stopping
// it reaches whatever it started too (sh -c 'sleep 60'), and has the kernel
// kill it when the stand-in ends, however it ends (kill -9 included): no
// job outlives its host.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
