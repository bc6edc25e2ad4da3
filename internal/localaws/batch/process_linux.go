package batch

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// setProcessGroup puts the job in its own process group, so that stopping
// it reaches whatever it started too (sh -c 'sleep 60'), and has the kernel
// kill it when the stand-in ends, however it ends (kill -9 included): no
// job outlives its host. The kernel sends Pdeathsig when the thread that
// started the child ends; Go ends a thread only under a goroutine that
// locked it and exited, which the stand-in's never do. Pdeathsig reaches the
// job's own process, not what it started: a wrapper (batchxray job) must
// pass it on to its child.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupRSS is the resident memory of every process in process group pgid,
// in bytes, from /proc: what a container's memory cgroup would count.
func groupRSS(pgid int) (int64, bool) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	page := int64(os.Getpagesize())
	var total int64
	found := false
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces, so count
		// from the last ')'.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		statm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
		if err != nil {
			continue
		}
		m := strings.Fields(string(statm))
		if len(m) < 2 {
			continue
		}
		pages, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			continue
		}
		total += pages * page
		found = true
	}
	return total, found
}
