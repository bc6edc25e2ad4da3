package jobrunner

import (
	"os"
	"syscall"
)

// maxRSS is the child's peak RSS; Linux's getrusage counts it in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}
