package batch

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settle brings every resource and job up to the clock: compute
// environments and queues end their CREATING, UPDATING or DELETING, and
// jobs take each transition that is due. It runs under s.mu on every API
// call and every step of the clock.
func (s *Service) settle() {
	now := s.env.Clock.Now()
	for _, ce := range s.ces {
		s.settleCE(ce, now)
	}
	for _, q := range s.queues {
		s.settleQueue(q, now)
	}
	s.forget(now)
	// A transition can enable another (a dependency succeeds, capacity
	// frees up), so go round until nothing moves.
	for {
		moved := false
		for _, j := range s.order {
			if s.step(j, now) {
				moved = true
			}
		}
		if s.schedule(now) {
			moved = true
		}
		if !moved {
			return
		}
	}
}

// due is when the job's next timed transition may happen, and whether that
// is now or earlier.
func (s *Service) due(j *job, now time.Time) (time.Time, bool) {
	t := j.since.Add(s.cfg.JobStep)
	return t, !t.After(now)
}

func (s *Service) move(j *job, status string, at time.Time) {
	j.d.Status = status
	j.since = at
	if s.cfg.Events != nil {
		detail, _ := json.Marshal(j.d)
		s.cfg.Events.JobStateChange(at, j.d.JobArn, detail)
	}
}

// depsState says whether every dependency succeeded, whether one failed,
// and when the last one stopped.
func depsState(j *job) (allOK, failed bool, last time.Time) {
	allOK = true
	for _, d := range j.deps {
		switch d.d.Status {
		case jobSucceeded:
			if t := time.UnixMilli(d.d.StoppedAt); t.After(last) {
				last = t
			}
		case jobFailed:
			return false, true, last
		default:
			allOK = false
		}
	}
	return allOK, false, last
}

// step takes the job's next transition if it is due and reports whether it
// did. RUNNABLE → STARTING is schedule's; RUNNING ends when the process
// does.
func (s *Service) step(j *job, now time.Time) bool {
	if j.terminal() {
		return false
	}
	if j.children != nil {
		return s.stepArray(j, now)
	}
	switch j.d.Status {
	case jobSubmitted, jobPending:
		t, ok := s.due(j, now)
		if !ok && j.d.Status == jobSubmitted {
			return false
		}
		allOK, failed, last := depsState(j)
		switch {
		case failed:
			s.fail(j, now, reasonDependency)
			return true
		case allOK && ok:
			s.move(j, jobRunnable, maxTime(t, last))
			return true
		// "If there are dependencies, the job is moved to PENDING. If
		// there are no dependencies, the job is moved to RUNNABLE" (AWS
		// Batch User Guide, Job states): a job without dependencies
		// skips PENDING, so Batch sends no PENDING event for it.
		case !allOK && j.d.Status == jobSubmitted:
			s.move(j, jobPending, t)
			return true
		}
	case jobStarting:
		if t, ok := s.due(j, now); ok && !s.closed {
			s.start(j, t)
			return true
		}
	case jobRunning:
		s.enforceTimeout(j, now)
	}
	return false
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// stepArray keeps an array parent's status summary and ends it when every
// child has ended: SUCCEEDED if all succeeded, else FAILED.
func (s *Service) stepArray(j *job, now time.Time) bool {
	summary := map[string]int32{}
	done, failed := 0, 0
	var started, stopped int64
	for _, c := range j.children {
		summary[c.d.Status]++
		if c.d.StartedAt != 0 && (started == 0 || c.d.StartedAt < started) {
			started = c.d.StartedAt
		}
		if c.terminal() {
			done++
			stopped = max(stopped, c.d.StoppedAt)
		}
		if c.d.Status == jobFailed {
			failed++
		}
	}
	for _, st := range jobStatuses {
		if _, ok := summary[st]; !ok {
			summary[st] = 0
		}
	}
	j.d.ArrayProperties.StatusSummary = summary
	j.d.StartedAt = started
	if done == len(j.children) {
		j.d.StoppedAt = max(stopped, millis(j.since))
		if failed > 0 {
			j.d.StatusReason = strconv.Itoa(failed) + " of " + strconv.Itoa(len(j.children)) + " child jobs failed"
			s.move(j, jobFailed, time.UnixMilli(j.d.StoppedAt))
		} else {
			s.move(j, jobSucceeded, time.UnixMilli(j.d.StoppedAt))
		}
		return true
	}
	// "An array parent job is updated to PENDING when any child job is
	// updated to RUNNABLE" (AWS Batch User Guide, Array jobs); the parent
	// never runs itself: SUBMITTED, PENDING, then SUCCEEDED or FAILED.
	if j.d.Status == jobSubmitted && summary[jobSubmitted]+summary[jobPending] < int32(len(j.children)) {
		s.move(j, jobPending, now)
		return true
	}
	return false
}

// schedule places due RUNNABLE jobs on compute environments with room,
// higher-priority queues first, then in submission order. A job starts only
// from an ENABLED, VALID queue on an ENABLED, VALID compute environment,
// and a compute environment runs at most maxvCpus worth of jobs at once.
func (s *Service) schedule(now time.Time) bool {
	if s.closed {
		return false
	}
	var runnable []*job
	for _, j := range s.order {
		if j.d.Status == jobRunnable && j.children == nil {
			if _, ok := s.due(j, now); ok && j.queue.usable() && s.queues[j.queue.d.JobQueueName] == j.queue {
				runnable = append(runnable, j)
			}
		}
	}
	slices.SortStableFunc(runnable, func(a, b *job) int { return int(b.queue.d.Priority - a.queue.d.Priority) })
	moved := false
	for _, j := range runnable {
		for _, o := range j.queue.d.ComputeEnvironmentOrder {
			ce := s.findCE(o.ComputeEnvironment)
			if ce == nil || !ce.usable() || ce.used+j.vcpus > ce.capacity() {
				continue
			}
			ce.used += j.vcpus
			j.ce = ce
			// A job that waited for room starts when the room was made,
			// not when it became due: its startedAt is when it started
			// running, not when it was ready to.
			t, _ := s.due(j, now)
			s.move(j, jobStarting, maxTime(t, ce.freed))
			moved = true
			break
		}
	}
	return moved
}

// start runs the job's attempt as a local process and marks it RUNNING, or
// ends the attempt at once when the process cannot start.
func (s *Service) start(j *job, at time.Time) {
	j.taskID = strings.ReplaceAll(newJobID(), "-", "")
	j.attemptStart = at
	j.timedOut, j.stopReason, j.killAt, j.deadline = false, "", time.Time{}, time.Time{}
	j.oom, j.overMemory = false, false
	stream := j.logPrefix + "/default/" + j.taskID
	j.d.Container.LogStreamName = stream
	j.d.Container.TaskArn = s.env.ARN("ecs", s.env.Region, "task/"+j.ce.d.ComputeEnvironmentName+"/"+j.taskID)
	j.d.Container.ExitCode = nil
	j.d.Container.Reason = ""
	c, err := s.containerFor(j)
	if err != nil {
		j.d.Container.Reason = err.Error()
		s.endAttempt(j, at, -1, reasonStartFailed)
		return
	}
	if !c.checked && s.cfg.Logs != nil {
		s.cfg.Logs.Write(j.logGroup, stream, at, notCheckedNote(j.d.Container.Image))
	}
	p, err := s.launch(j, c, stream)
	if err != nil {
		j.d.Container.Reason = "CannotStartContainerError: " + err.Error()
		s.endAttempt(j, at, -1, reasonStartFailed)
		return
	}
	j.proc = p
	j.d.StartedAt = millis(at)
	s.move(j, jobRunning, at)
	if j.d.Timeout != nil && j.d.Timeout.AttemptDurationSeconds > 0 {
		j.deadline = at.Add(time.Duration(j.d.Timeout.AttemptDurationSeconds) * time.Second)
	}
	s.procs.Add(1)
	go func() {
		defer s.procs.Done()
		code := p.wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		if j.proc != p {
			return
		}
		j.proc = nil
		reason := reasonExited
		if j.oom {
			j.d.Container.Reason = reasonOutOfMemory
		}
		switch {
		case j.stopReason != "":
			reason = j.stopReason
		case j.timedOut:
			reason = reasonTimeout
		}
		s.endAttempt(j, s.env.Clock.Now(), code, reason)
		s.settle()
	}()
}

// enforceTimeout sends SIGTERM when the attempt's time is up, and SIGKILL
// when the grace after any SIGTERM is over.
func (s *Service) enforceTimeout(j *job, now time.Time) {
	if !j.deadline.IsZero() && !now.Before(j.deadline) && !j.timedOut && j.stopReason == "" {
		j.timedOut = true
		s.signalStop(j, now)
	}
	if !j.killAt.IsZero() && !now.Before(j.killAt) && j.proc != nil {
		j.proc.kill()
		j.killAt = time.Time{}
	}
}

// signalStop asks the job's process to stop, as ECS stops a container.
func (s *Service) signalStop(j *job, now time.Time) {
	if j.proc == nil {
		return
	}
	j.proc.signal(syscall.SIGTERM)
	j.killAt = now.Add(s.cfg.KillGrace)
}

// endAttempt records the attempt that just ended and moves the job on: to
// SUCCEEDED, back to RUNNABLE when its retry strategy allows another
// attempt, or to FAILED.
func (s *Service) endAttempt(j *job, at time.Time, code int, reason string) {
	s.release(j, at)
	exit := int32(code)
	c := j.d.Container
	ac := &attemptContainerDetail{TaskArn: c.TaskArn, LogStreamName: c.LogStreamName, Reason: c.Reason}
	if code >= 0 {
		ac.ExitCode = &exit
		c.ExitCode = &exit
	}
	j.d.Attempts = append(j.d.Attempts, attemptDetail{
		Container:    ac,
		StartedAt:    millis(j.attemptStart),
		StoppedAt:    millis(at),
		StatusReason: reason,
	})
	j.d.StatusReason = reason
	switch {
	case code == 0 && j.stopReason == "" && !j.timedOut:
		j.d.StoppedAt = millis(at)
		s.move(j, jobSucceeded, at)
	// "If a job is terminated for exceeding the timeout duration, it isn't
	// retried. If a job attempt fails on its own, then it can retry if
	// retries are enabled" (AWS Batch User Guide, Job timeouts).
	case j.stopReason == "" && !j.timedOut && s.retries(j, code, reason):
		s.move(j, jobRunnable, at)
	default:
		j.d.StoppedAt = millis(at)
		s.move(j, jobFailed, at)
	}
}

// retries says whether a failed attempt is tried again: attempts remain,
// and the first evaluateOnExit condition that matches (if any) says RETRY.
func (s *Service) retries(j *job, code int, reason string) bool {
	rs := j.d.RetryStrategy
	if rs == nil || int(rs.Attempts) <= len(j.d.Attempts) {
		return false
	}
	exit := strconv.Itoa(code)
	for _, e := range rs.EvaluateOnExit {
		if matchOn(e.OnExitCode, exit) && matchOn(e.OnReason, j.d.Container.Reason) && matchOn(e.OnStatusReason, reason) {
			return strings.EqualFold(e.Action, "RETRY")
		}
	}
	return true
}

// matchOn matches an evaluateOnExit pattern: empty matches anything, a
// trailing * a prefix.
func matchOn(pattern, value string) bool {
	return pattern == "" || wildcard(pattern, value)
}
