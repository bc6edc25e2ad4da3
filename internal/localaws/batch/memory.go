package batch

// reasonOutOfMemory is the container's reason when it is killed for its
// memory: "OutOfMemoryError: Container killed due to memory usage ... This
// error occurs when a container exits because processes in the container
// consume more memory than was allocated in the task definition" (Amazon
// ECS Developer Guide, Troubleshooting Amazon ECS OutOfMemoryError errors).
const reasonOutOfMemory = "OutOfMemoryError: Container killed due to memory usage"

// mib is a mebibyte, the unit of a job's MEMORY.
const mib = 1 << 20

// sampleMemory kills, as the kernel's OOM killer kills a container at its
// memory cgroup's limit, each running attempt whose processes hold more
// resident memory than the job's MEMORY ("If your container attempts to
// exceed the memory specified, the container is terminated": AWS Batch API
// Reference, ResourceRequirement). It runs on each step of the clock.
func (s *Service) sampleMemory() {
	for _, j := range s.order {
		if j.proc == nil || j.oom || j.d.Status != jobRunning {
			continue
		}
		limit, ok := resourceValue(j.d.Container.ResourceRequirements, "MEMORY", j.d.Container.Memory)
		if !ok {
			continue
		}
		over := j.overMemory
		if !over && j.proc.cmd.Process != nil {
			rss, known := groupRSS(j.proc.cmd.Process.Pid)
			over = known && float64(rss) > limit*mib
		}
		if over {
			j.oom = true
			j.proc.kill()
		}
	}
}

// ExceedMemory makes the running job's next memory sample find it over
// its memory, so it is killed with OutOfMemoryError: a fault for tests and
// demos of a job killed without warning.
func (s *Service) ExceedMemory(jobID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[jobID]
	if !ok || j.d.Status != jobRunning || j.proc == nil {
		return clientError("Job %s is not RUNNING", jobID)
	}
	j.overMemory = true
	return nil
}
