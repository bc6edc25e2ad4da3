package batch

import (
	"os"
	"strconv"
	"strings"
)

// groupsRSS is the resident memory of each process group, in bytes, from
// one scan of /proc: what each container's memory cgroup would count.
func groupsRSS() map[int]int64 {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	page := int64(os.Getpagesize())
	out := map[int]int64{}
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
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
		if len(f) < 3 {
			continue
		}
		pgid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		statm, err := os.ReadFile("/proc/" + d.Name() + "/statm")
		if err != nil {
			continue
		}
		m := strings.Fields(string(statm))
		if len(m) < 2 {
			continue
		}
		if pages, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			out[pgid] += pages * page
		}
	}
	return out
}
