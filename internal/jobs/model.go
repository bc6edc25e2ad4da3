package jobs

import (
	"slices"
	"strings"
	"time"
	"unique"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// State is a Batch job status.
type State string

// The states of a Batch job, in lifecycle order. A failed attempt with
// retries left goes back to RUNNABLE.
const (
	Submitted State = "SUBMITTED"
	Pending   State = "PENDING"
	Runnable  State = "RUNNABLE"
	Starting  State = "STARTING"
	Running   State = "RUNNING"
	Succeeded State = "SUCCEEDED"
	Failed    State = "FAILED"
)

// States lists every state in lifecycle order, for rendering counts and
// durations in a stable order.
var States = []State{Submitted, Pending, Runnable, Starting, Running, Succeeded, Failed}

// Terminal reports whether a job in this state is done.
func (s State) Terminal() bool { return s == Succeeded || s == Failed }

// Transition is a state and when the job was first seen in it while
// polling, or, from the recorded job events, when it entered it and with
// what statusReason.
type Transition struct {
	State  State     `json:"state"`
	At     time.Time `json:"at"`
	Reason string    `json:"statusReason,omitempty"`
}

// Attempt is one run of a job's container.
type Attempt struct {
	StartedAt time.Time `json:"startedAt,omitzero"`
	StoppedAt time.Time `json:"stoppedAt,omitzero"`
	// ExitCode is nil when the container never exited on its own (it did
	// not start, or was killed without a code).
	ExitCode *int `json:"exitCode,omitempty"`
	// Reason is the container's reason (CannotStartContainerError, ...).
	Reason string `json:"reason,omitempty"`
	// StatusReason is Batch's reason for the attempt's end.
	StatusReason string `json:"statusReason,omitempty"`
	LogStream    string `json:"logStream,omitempty"`
	// Interruption says why the attempt's host went away when Batch says
	// it was terminated: InterruptedSpot on a SPOT compute environment,
	// InterruptedHost when that is not known.
	Interruption string `json:"interruption,omitempty"`
}

// Array is what an array parent knows about its children.
type Array struct {
	Size int `json:"size"`
	// Counts is the number of children in each state.
	Counts map[State]int `json:"counts"`
	// FailedChildren lists children that FAILED, once the parent has
	// ended and they were asked for.
	FailedChildren []FailedChild `json:"failedChildren,omitempty"`
}

// FailedChild is a failed array child, as ListJobs reports it.
type FailedChild struct {
	ID           string `json:"id"`
	Index        int    `json:"index"`
	ExitCode     *int   `json:"exitCode,omitempty"`
	StatusReason string `json:"statusReason,omitempty"`
}

// Job is batchxray's model of a Batch job: what DescribeJobs says, plus the
// transitions seen while polling, which fill in the states Batch keeps no
// timestamp for (PENDING, RUNNABLE, STARTING).
type Job struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	ARN          string    `json:"arn,omitempty"`
	Status       State     `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	Queue        string    `json:"queue"`
	Definition   string    `json:"definition,omitempty"`
	CreatedAt    time.Time `json:"createdAt,omitzero"`
	// StartedAt is when the latest attempt went RUNNING.
	StartedAt time.Time `json:"startedAt,omitzero"`
	StoppedAt time.Time `json:"stoppedAt,omitzero"`
	Attempts  []Attempt `json:"attempts"`
	// MaxAttempts is the retry strategy's attempts (1 without one).
	MaxAttempts int `json:"maxAttempts"`
	// LogStream, ExitCode and Reason are the current (or last) container's.
	LogStream string `json:"logStream,omitempty"`
	// LogGroup is where the awslogs driver sends the job's output.
	LogGroup  string  `json:"logGroup,omitempty"`
	ExitCode  *int    `json:"exitCode,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	VCPUs     float64 `json:"vcpus,omitempty"`
	MemoryMiB int     `json:"memoryMiB,omitempty"`
	// Array is set for an array parent, ArrayIndex for an array child.
	Array      *Array   `json:"array,omitempty"`
	ArrayIndex *int     `json:"arrayIndex,omitempty"`
	DependsOn  []string `json:"dependsOn,omitempty"`
	// Transitions are the states seen while polling, in order, each with
	// when it was first seen; or the recorded job events' when FromEvents.
	Transitions []Transition `json:"transitions,omitempty"`
	// FromEvents says the transitions are Batch's own events (exact), not
	// polling's sightings.
	// Always in JSON: false says the figures come from DescribeJobs.
	FromEvents bool `json:"fromEvents"`
}

// defaultLogGroup is where Batch sends a job's output when its job
// definition names no group.
const defaultLogGroup = "/aws/batch/job"

// FromDetail maps Batch's JobDetail to a Job. It is the only place that
// reads JobDetail, so every command sees a job the same way.
func FromDetail(d types.JobDetail) Job {
	// What many jobs share (the name of an array's children, the queue,
	// the definition, the reasons) is interned, so following thousands of
	// jobs keeps one copy of each.
	j := Job{
		ID:           aws.ToString(d.JobId),
		Name:         intern(aws.ToString(d.JobName)),
		ARN:          aws.ToString(d.JobArn),
		Status:       State(d.Status),
		StatusReason: intern(aws.ToString(d.StatusReason)),
		Queue:        intern(nameFromARN(aws.ToString(d.JobQueue))),
		Definition:   intern(aws.ToString(d.JobDefinition)),
		CreatedAt:    fromMillis(d.CreatedAt),
		StartedAt:    fromMillis(d.StartedAt),
		StoppedAt:    fromMillis(d.StoppedAt),
		MaxAttempts:  1,
		Attempts:     []Attempt{},
	}
	if d.RetryStrategy != nil && aws.ToInt32(d.RetryStrategy.Attempts) > 1 {
		j.MaxAttempts = int(aws.ToInt32(d.RetryStrategy.Attempts))
	}
	for _, a := range d.Attempts {
		at := Attempt{StartedAt: fromMillis(a.StartedAt), StoppedAt: fromMillis(a.StoppedAt), StatusReason: intern(aws.ToString(a.StatusReason))}
		if hostTerminated(at.StatusReason) {
			at.Interruption = InterruptedHost
		}
		if c := a.Container; c != nil {
			at.ExitCode = intPtr(c.ExitCode)
			at.Reason = intern(aws.ToString(c.Reason))
			at.LogStream = aws.ToString(c.LogStreamName)
		}
		j.Attempts = append(j.Attempts, at)
	}
	if c := d.Container; c != nil {
		j.LogStream = aws.ToString(c.LogStreamName)
		if n := len(j.Attempts); n > 0 && j.Attempts[n-1].LogStream == j.LogStream {
			// The last attempt's stream is the job's: keep one copy.
			j.LogStream = j.Attempts[n-1].LogStream
		}
		j.ExitCode = intPtr(c.ExitCode)
		j.Reason = intern(aws.ToString(c.Reason))
		j.VCPUs, j.MemoryMiB = resources(c)
		j.LogGroup = defaultLogGroup
		if lc := c.LogConfiguration; lc != nil && lc.Options["awslogs-group"] != "" {
			j.LogGroup = intern(lc.Options["awslogs-group"])
		}
	}
	if ap := d.ArrayProperties; ap != nil {
		if ap.Index != nil {
			i := int(*ap.Index)
			j.ArrayIndex = &i
		} else {
			j.Array = &Array{Size: int(aws.ToInt32(ap.Size)), Counts: map[State]int{}}
			for k, v := range ap.StatusSummary {
				if v > 0 {
					j.Array.Counts[State(k)] = int(v)
				}
			}
		}
	}
	for _, dep := range d.DependsOn {
		j.DependsOn = append(j.DependsOn, aws.ToString(dep.JobId))
	}
	return j
}

// resources reads the container's vCPU and memory request: the
// resourceRequirements, or the deprecated vcpus and memory fields.
func resources(c *types.ContainerDetail) (vcpus float64, memMiB int) {
	vcpus, memMiB = float64(aws.ToInt32(c.Vcpus)), int(aws.ToInt32(c.Memory))
	for _, r := range c.ResourceRequirements {
		v := aws.ToString(r.Value)
		switch r.Type {
		case types.ResourceTypeVcpu:
			vcpus = parseFloat(v)
		case types.ResourceTypeMemory:
			memMiB = int(parseFloat(v))
		}
	}
	return vcpus, memMiB
}

// Update takes a fresh JobDetail seen at time at: the job's fields are
// replaced, its observed transitions kept, and a new transition recorded
// when the status differs from the last one seen. It reports whether one
// was.
func (j *Job) Update(d types.JobDetail, at time.Time) bool {
	seen := j.Transitions
	var failed []FailedChild
	if j.Array != nil {
		failed = j.Array.FailedChildren
	}
	*j = FromDetail(d)
	j.Transitions = seen
	if j.Array != nil {
		j.Array.FailedChildren = failed
	}
	if n := len(seen); n > 0 && seen[n-1].State == j.Status {
		return false
	}
	j.Transitions = append(j.Transitions, Transition{State: j.Status, At: at})
	if j.Status.Terminal() {
		// No more transitions come: drop the room append left.
		j.Transitions = slices.Clip(slices.Clone(j.Transitions))
	}
	return true
}

// Previous is the state seen before the current one, or "" on the first
// sighting.
func (j *Job) Previous() State {
	if n := len(j.Transitions); n > 1 {
		return j.Transitions[n-2].State
	}
	return ""
}

// StateSpan is a stretch of time the job spent in one state. End is zero while
// the job is still in it.
type StateSpan struct {
	State State     `json:"state"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// Spans is the job's lifecycle as far as it is known, oldest first. Batch's
// own timestamps (created, each attempt's start and stop, stopped) are
// exact; the other states start when polling first saw them, so their
// start is late by up to one poll interval. A state seen on the first poll
// is taken to have begun then, or at creation when it is the first state;
// the time before the first sighting of a later state is in no span.
func (j *Job) StateSpans() []StateSpan {
	type event struct {
		state State
		at    time.Time
		order int
	}
	var ev []event
	add := func(s State, at time.Time) {
		if !at.IsZero() {
			ev = append(ev, event{s, at, len(ev)})
		}
	}
	first := Submitted
	if j.ArrayIndex != nil {
		// An array child is created straight into PENDING.
		first = Pending
	}
	// Creation starts the first state only when that is the state the job
	// was first seen in: a job first seen later in its life (status on an
	// old job) went through states at times nobody saw, and charging that
	// time to the first state would be a guess. QueueWait still covers it.
	seenFirst := j.Status == first
	if len(j.Transitions) > 0 {
		// Batch's events start after SUBMITTED: the first state before them
		// is known to have begun at creation.
		seenFirst = j.Transitions[0].State == first || j.FromEvents
	}
	if seenFirst {
		add(first, j.CreatedAt)
	}
	for i, a := range j.Attempts {
		add(Running, a.StartedAt)
		if i < len(j.Attempts)-1 || !j.Status.Terminal() {
			add(Runnable, a.StoppedAt)
		}
	}
	if j.Array == nil {
		// An array parent stays PENDING while its children run; its
		// startedAt is its first child's.
		add(Running, j.StartedAt)
	}
	for _, t := range j.Transitions {
		if t.State.Terminal() && !j.StoppedAt.IsZero() {
			continue
		}
		add(t.State, t.At)
	}
	if j.Status.Terminal() {
		add(j.Status, j.StoppedAt)
	}
	slices.SortStableFunc(ev, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.order - b.order
	})
	var spans []StateSpan
	for _, e := range ev {
		if n := len(spans); n > 0 {
			if spans[n-1].State == e.state {
				continue
			}
			if spans[n-1].State.Terminal() {
				break
			}
			spans[n-1].End = e.at
		}
		spans = append(spans, StateSpan{State: e.state, Start: e.at})
	}
	return spans
}

// Durations sums the time spent in each state up to now; the current state
// counts until now, a terminal state counts nothing.
func (j *Job) Durations(now time.Time) map[State]time.Duration {
	d := map[State]time.Duration{}
	for _, s := range j.StateSpans() {
		if s.State.Terminal() {
			continue
		}
		end := s.End
		if end.IsZero() {
			end = now
		}
		if end.After(s.Start) {
			d[s.State] += end.Sub(s.Start)
		}
	}
	return d
}

// Started is when the job first ran: its first attempt's start, since
// Batch's own startedAt moves to the latest attempt on a retry. It is zero
// while the job has not started.
func (j *Job) Started() time.Time {
	for _, a := range j.Attempts {
		if !a.StartedAt.IsZero() {
			return a.StartedAt
		}
	}
	return j.StartedAt
}

// End is when the job stopped, or now while it has not. A terminal job
// without a stop time ends with its last attempt.
func (j *Job) End(now time.Time) time.Time {
	switch n := len(j.Attempts); {
	case !j.StoppedAt.IsZero():
		return j.StoppedAt
	case j.Status.Terminal() && n > 0 && !j.Attempts[n-1].StoppedAt.IsZero():
		return j.Attempts[n-1].StoppedAt
	}
	return now
}

// QueueWait is the time from creation to the first attempt's start, or to
// now while the job has not started.
func (j *Job) QueueWait(now time.Time) time.Duration {
	start := j.Started()
	if start.IsZero() {
		if j.Status.Terminal() {
			start = j.StoppedAt
		} else {
			start = now
		}
	}
	if j.CreatedAt.IsZero() || start.Before(j.CreatedAt) {
		return 0
	}
	return start.Sub(j.CreatedAt)
}

// RunTime is the time the job's attempts ran, the current one until now.
func (j *Job) RunTime(now time.Time) time.Duration {
	var total time.Duration
	for _, a := range j.Attempts {
		if !a.StartedAt.IsZero() && a.StoppedAt.After(a.StartedAt) {
			total += a.StoppedAt.Sub(a.StartedAt)
		}
	}
	if j.Status == Running && !j.StartedAt.IsZero() && now.After(j.StartedAt) {
		total += now.Sub(j.StartedAt)
	}
	return total
}

// RunnableFor is how long the job has been waiting in RUNNABLE, or zero
// when it is not. An array parent waits while none of its children has
// started and some are RUNNABLE, counted from its creation.
func (j *Job) RunnableFor(now time.Time) time.Duration {
	if j.Array != nil {
		if j.Status.Terminal() || !j.StartedAt.IsZero() || j.Array.Counts[Runnable] == 0 || j.CreatedAt.IsZero() {
			return 0
		}
		return now.Sub(j.CreatedAt)
	}
	if j.Status != Runnable {
		return 0
	}
	return j.Durations(now)[Runnable]
}

// Attempt is the number of the attempt under way (or the last one), from 1.
func (j *Job) Attempt() int {
	n := len(j.Attempts)
	if j.Status == Starting || j.Status == Running {
		n++
	}
	return max(n, 1)
}

// intern returns the one copy of s that every job shares.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

func fromMillis(ms *int64) time.Time {
	if ms == nil || *ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(*ms).UTC()
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

// nameFromARN is the name at the end of a Batch ARN (…:job-queue/name), or
// the string itself when it is a name already.
func nameFromARN(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 && strings.HasPrefix(s, "arn:") {
		return s[i+1:]
	}
	return s
}
