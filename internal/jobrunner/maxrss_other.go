//go:build !linux

package jobrunner

import "os"

// maxRSS is unknown off Linux: the job runs in Linux containers, and the
// units of rusage's peak RSS differ between the other systems.
func maxRSS(*os.ProcessState) int64 { return 0 }
