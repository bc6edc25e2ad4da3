package batch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Job statuses, in the order a job walks them.
const (
	jobSubmitted = "SUBMITTED"
	jobPending   = "PENDING"
	jobRunnable  = "RUNNABLE"
	jobStarting  = "STARTING"
	jobRunning   = "RUNNING"
	jobSucceeded = "SUCCEEDED"
	jobFailed    = "FAILED"
)

var jobStatuses = []string{jobSubmitted, jobPending, jobRunnable, jobStarting, jobRunning, jobSucceeded, jobFailed}

// Reasons Batch gives in statusReason.
const (
	reasonExited      = "Essential container in task exited"
	reasonTimeout     = "Job attempt duration exceeded timeout"
	reasonDependency  = "Dependent Job failed"
	reasonStartFailed = "Task failed to start"
	defaultLogGroup   = "/aws/batch/job"
	maxArraySize      = 10000
	maxDescribeJobs   = 100
	maxDependencies   = 20
)

// jobNamePattern: up to 128 letters, digits, hyphens and underscores,
// starting with a letter or digit.
var jobNamePattern = awsproto.Pattern(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

type job struct {
	d   jobDetail
	seq int64
	// queue is the queue the job was submitted to.
	queue *jobQueue
	def   *jobDefinition
	// since is when the job entered its status, on the clock.
	since    time.Time
	vcpus    int32
	command  []string
	env      []keyValuePair
	logGroup string
	// logPrefix starts the job's log stream names.
	logPrefix string

	parent   *job
	children []*job
	// deps must all succeed before the job can run.
	deps []*job

	// While STARTING or RUNNING: where it runs, and its process.
	ce           *computeEnv
	proc         *process
	attemptStart time.Time
	taskID       string
	// deadline is when the running attempt times out (zero: never).
	deadline time.Time
	timedOut bool
	// stopReason is TerminateJob's reason while the process stops.
	stopReason string
	// killAt is when SIGKILL follows the SIGTERM sent (zero: none sent).
	killAt time.Time
	// oom is set once the attempt is killed for its memory; overMemory
	// makes the next sample find it over (an injected fault).
	oom, overMemory bool
}

func (j *job) terminal() bool { return j.d.Status == jobSucceeded || j.d.Status == jobFailed }

func (j *job) summary() jobSummary {
	js := jobSummary{
		JobArn:        j.d.JobArn,
		JobID:         j.d.JobID,
		JobName:       j.d.JobName,
		CreatedAt:     j.d.CreatedAt,
		Status:        j.d.Status,
		StatusReason:  j.d.StatusReason,
		StartedAt:     j.d.StartedAt,
		StoppedAt:     j.d.StoppedAt,
		JobDefinition: j.d.JobDefinition,
	}
	if c := j.d.Container; c != nil && (c.ExitCode != nil || c.Reason != "") {
		js.Container = &containerSummary{ExitCode: c.ExitCode, Reason: c.Reason}
	}
	if ap := j.d.ArrayProperties; ap != nil {
		js.ArrayProperties = &arrayPropertiesSummary{Size: ap.Size, Index: ap.Index}
	}
	return js
}

type submitJobInput struct {
	JobName         string `json:"jobName"`
	JobQueue        string `json:"jobQueue"`
	JobDefinition   string `json:"jobDefinition"`
	ArrayProperties *struct {
		Size *int32 `json:"size"`
	} `json:"arrayProperties"`
	DependsOn          []jobDependency     `json:"dependsOn"`
	Parameters         map[string]string   `json:"parameters"`
	ContainerOverrides *containerOverrides `json:"containerOverrides"`
	RetryStrategy      *retryStrategy      `json:"retryStrategy"`
	Timeout            *jobTimeout         `json:"timeout"`
	Tags               map[string]string   `json:"tags"`
	PropagateTags      *bool               `json:"propagateTags"`
}

func (s *Service) submitJob(in *submitJobInput) (any, error) {
	if !jobNamePattern().MatchString(in.JobName) {
		return nil, clientError("jobName must be 1 to 128 characters long, start with a letter or number, and contain only letters, numbers, hyphens (-) and underscores (_)")
	}
	size := int32(0)
	if in.ArrayProperties != nil && in.ArrayProperties.Size != nil {
		size = *in.ArrayProperties.Size
		if size < 2 || size > maxArraySize {
			return nil, clientError("arrayProperties.size must be between 2 and %d", maxArraySize)
		}
	}
	if len(in.DependsOn) > maxDependencies {
		return nil, clientError("A job can depend on at most %d jobs", maxDependencies)
	}
	o := in.ContainerOverrides
	if o != nil {
		for _, kv := range o.Environment {
			if strings.HasPrefix(kv.Name, "AWS_BATCH") {
				return nil, clientError("Environment variable names can't start with AWS_BATCH; it is reserved for variables that Batch sets")
			}
		}
		if err := validateResources(o.ResourceRequirements); err != nil {
			return nil, err
		}
	}
	if err := validateRetry(in.RetryStrategy); err != nil {
		return nil, err
	}
	if err := validateTimeout(in.Timeout); err != nil {
		return nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}

	q := s.findQueue(in.JobQueue)
	if q == nil || q.d.Status == statusDeleting {
		return nil, clientError("Job Queue %s does not exist", in.JobQueue)
	}
	if !q.usable() {
		return nil, clientError("Job queue %s is %s and %s: it can accept jobs only when ENABLED and VALID", q.d.JobQueueName, q.d.State, q.d.Status)
	}
	def := s.findDef(in.JobDefinition)
	if def == nil {
		return nil, clientError("Job definition %s does not exist", in.JobDefinition)
	}
	if def.Status != defActive {
		return nil, clientError("Job definition %s is INACTIVE", def.JobDefinitionArn)
	}

	now := s.env.Clock.Now()
	id := newJobID()
	j := s.newJob(id, in, q, def, now)
	if slices.Contains(def.PlatformCapabilities, "EC2") {
		c := j.d.Container
		if err := validateEC2Resources(c.ResourceRequirements, c.Vcpus, c.Memory, true); err != nil {
			return nil, err
		}
	}
	// Dependencies: a plain one waits for that job (an array job as a
	// whole); N_TO_N pairs children by index; SEQUENTIAL chains the
	// array's own children.
	var nToN []*job
	sequential := false
	for _, d := range in.DependsOn {
		switch d.Type {
		case "", "N_TO_N", "SEQUENTIAL":
		default:
			return nil, clientError("dependsOn type must be N_TO_N or SEQUENTIAL")
		}
		if d.Type == "SEQUENTIAL" {
			if size == 0 {
				return nil, clientError("A SEQUENTIAL dependency is only valid for an array job")
			}
			if d.JobID != "" && d.JobID != id {
				return nil, clientError("A SEQUENTIAL dependency can't name another job")
			}
			sequential = true
			continue
		}
		dep, ok := s.jobs[d.JobID]
		if !ok {
			return nil, clientError("Dependency job %s does not exist", d.JobID)
		}
		if d.Type == "N_TO_N" {
			if size == 0 || len(dep.children) != int(size) {
				return nil, clientError("An N_TO_N dependency requires both jobs to be array jobs of the same size")
			}
			nToN = append(nToN, dep)
			continue
		}
		j.deps = append(j.deps, dep)
	}
	j.d.DependsOn = in.DependsOn

	if size > 0 {
		j.d.ArrayProperties = &arrayPropertiesDetail{Size: &size, StatusSummary: map[string]int32{}}
		for i := range size {
			c := s.newJob(fmt.Sprintf("%s:%d", id, i), in, q, def, now)
			// "For array child jobs, [createdAt] is when the child job was
			// spawned by its parent and entered the PENDING state" (AWS
			// Batch API Reference, JobDetail).
			c.d.Status = jobPending
			c.parent = j
			idx := i
			c.d.ArrayProperties = &arrayPropertiesDetail{Index: &idx}
			c.deps = slices.Clone(j.deps)
			for _, dep := range nToN {
				c.deps = append(c.deps, dep.children[i])
			}
			if sequential && i > 0 {
				c.deps = append(c.deps, j.children[i-1])
			}
			c.d.DependsOn = nil
			for _, dep := range c.deps {
				c.d.DependsOn = append(c.d.DependsOn, jobDependency{JobID: dep.d.JobID})
			}
			j.children = append(j.children, c)
		}
		j.deps = nil
	}
	s.add(j)
	for _, c := range j.children {
		s.add(c)
	}
	return map[string]string{"jobArn": j.d.JobArn, "jobName": j.d.JobName, "jobId": j.d.JobID}, nil
}

// DefaultRetention is how long the stand-in's Batch returns a job after it
// ended. AWS documents no figure that we found (the API references of
// DescribeJobs and ListJobs name none); finished jobs are commonly seen to
// disappear after about a day, so the stand-in forgets them then, the
// shorter of the figures in circulation: it must not be more forgiving
// than AWS.
const DefaultRetention = 24 * time.Hour

// forget drops the jobs that ended more than the retention ago, as Batch
// stops returning them: an array's children go with their parent, and a
// job another still waits on is kept until that one has ended too.
func (s *Service) forget(now time.Time) {
	if s.cfg.Retention < 0 {
		return
	}
	cutoff := now.Add(-s.cfg.Retention)
	gone := map[*job]bool{}
	for _, j := range s.order {
		if j.parent == nil && j.terminal() && !time.UnixMilli(j.d.StoppedAt).After(cutoff) {
			gone[j] = true
			for _, c := range j.children {
				gone[c] = true
			}
		}
	}
	if len(gone) == 0 {
		return
	}
	for _, j := range s.order {
		if gone[j] {
			continue
		}
		for _, d := range j.deps {
			if gone[d] && !j.terminal() {
				delete(gone, d)
			}
		}
	}
	s.order = slices.DeleteFunc(s.order, func(j *job) bool { return gone[j] })
	for j := range gone {
		delete(s.jobs, j.d.JobID)
	}
}

func (s *Service) add(j *job) {
	s.seq++
	j.seq = s.seq
	s.jobs[j.d.JobID] = j
	s.order = append(s.order, j)
}

func newJobID() string {
	// A UUID, as Batch's job IDs are.
	return awsproto.NewRequestID()
}

// newJob builds a job (or an array child) from SubmitJob's input: the job
// definition with the overrides applied and parameters substituted.
func (s *Service) newJob(id string, in *submitJobInput, q *jobQueue, def *jobDefinition, now time.Time) *job {
	cp := def.ContainerProperties
	o := in.ContainerOverrides
	if o == nil {
		o = &containerOverrides{}
	}
	params := map[string]string{}
	for k, v := range def.Parameters {
		params[k] = v
	}
	for k, v := range in.Parameters {
		params[k] = v
	}
	command := cp.Command
	if len(o.Command) > 0 {
		command = o.Command
	}
	command = substitute(command, params)
	env := mergeEnv(cp.Environment, o.Environment)
	rr := mergeResources(cp.ResourceRequirements, o.ResourceRequirements)
	vcpus, memory := cp.Vcpus, cp.Memory
	if o.Vcpus != nil {
		vcpus = o.Vcpus
	}
	if o.Memory != nil {
		memory = o.Memory
	}
	retry := def.RetryStrategy
	if in.RetryStrategy != nil {
		retry = in.RetryStrategy
	}
	timeout := def.Timeout
	if in.Timeout != nil {
		timeout = in.Timeout
	}
	group, prefix := defaultLogGroup, def.JobDefinitionName
	if lc := cp.LogConfiguration; lc != nil && lc.LogDriver == "awslogs" {
		if g := lc.Options["awslogs-group"]; g != "" {
			group = g
		}
		if p := lc.Options["awslogs-stream-prefix"]; p != "" {
			prefix = p
		}
	}
	name := in.JobName
	j := &job{
		d: jobDetail{
			JobArn:        s.arn("job/" + id),
			JobName:       name,
			JobID:         id,
			JobQueue:      q.d.JobQueueArn,
			Status:        jobSubmitted,
			CreatedAt:     millis(now),
			RetryStrategy: retry,
			JobDefinition: def.JobDefinitionArn,
			Parameters:    params,
			Container: &containerDetail{
				Image:                cp.Image,
				Vcpus:                vcpus,
				Memory:               memory,
				Command:              command,
				JobRoleArn:           cp.JobRoleArn,
				ExecutionRoleArn:     cp.ExecutionRoleArn,
				Environment:          env,
				ResourceRequirements: rr,
				LogConfiguration:     cp.LogConfiguration,
				InstanceType:         o.InstanceType,
			},
			Timeout:              timeout,
			Tags:                 in.Tags,
			PropagateTags:        in.PropagateTags,
			PlatformCapabilities: def.PlatformCapabilities,
		},
		queue:     q,
		def:       def,
		since:     now,
		vcpus:     jobVCPUs(rr, vcpus),
		command:   command,
		env:       env,
		logGroup:  group,
		logPrefix: prefix,
	}
	if len(params) == 0 {
		j.d.Parameters = nil
	}
	return j
}

// substitute replaces Ref::name placeholders in a command with parameter
// values, longest names first so Ref::ab is not taken for Ref::a.
func substitute(command []string, params map[string]string) []string {
	if len(params) == 0 {
		return command
	}
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	out := make([]string, len(command))
	for i, arg := range command {
		for _, n := range names {
			arg = strings.ReplaceAll(arg, "Ref::"+n, params[n])
		}
		out[i] = arg
	}
	return out
}

func mergeEnv(base, over []keyValuePair) []keyValuePair {
	out := slices.Clone(base)
	for _, kv := range over {
		if i := slices.IndexFunc(out, func(b keyValuePair) bool { return b.Name == kv.Name }); i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}

func mergeResources(base, over []resourceRequirement) []resourceRequirement {
	out := slices.Clone(base)
	for _, r := range over {
		if i := slices.IndexFunc(out, func(b resourceRequirement) bool { return b.Type == r.Type }); i >= 0 {
			out[i] = r
		} else {
			out = append(out, r)
		}
	}
	return out
}

// jobVCPUs is what the job takes of its compute environment's maxvCpus.
func jobVCPUs(rr []resourceRequirement, vcpus *int32) int32 {
	for _, r := range rr {
		if r.Type == "VCPU" {
			if f, err := strconv.ParseFloat(r.Value, 64); err == nil && f > 0 {
				return max(int32(f+0.999), 1)
			}
		}
	}
	if vcpus != nil && *vcpus > 0 {
		return *vcpus
	}
	return 1
}

type describeJobsInput struct {
	Jobs []string `json:"jobs"`
}

func (s *Service) describeJobs(in *describeJobsInput) (any, error) {
	if len(in.Jobs) < 1 || len(in.Jobs) > maxDescribeJobs {
		return nil, clientError("jobs must list between 1 and %d job IDs, got %d", maxDescribeJobs, len(in.Jobs))
	}
	out := []jobDetail{}
	for _, id := range in.Jobs {
		if strings.HasPrefix(id, "arn:") {
			if i := strings.Index(id, ":job/"); i >= 0 {
				id = id[i+len(":job/"):]
			}
		}
		if j, ok := s.jobs[id]; ok {
			out = append(out, j.d)
		}
	}
	return struct {
		Jobs []jobDetail `json:"jobs"`
	}{out}, nil
}

type listJobsInput struct {
	JobQueue       string          `json:"jobQueue"`
	ArrayJobID     string          `json:"arrayJobId"`
	MultiNodeJobID string          `json:"multiNodeJobId"`
	JobStatus      string          `json:"jobStatus"`
	MaxResults     int32           `json:"maxResults"`
	NextToken      string          `json:"nextToken"`
	Filters        []keyValuesPair `json:"filters"`
}

func (s *Service) listJobs(in *listJobsInput) (any, error) {
	given := 0
	for _, v := range []string{in.JobQueue, in.ArrayJobID, in.MultiNodeJobID} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return nil, clientError("Exactly one of jobQueue, arrayJobId or multiNodeJobId must be specified")
	}
	if in.JobStatus != "" && !slices.Contains(jobStatuses, in.JobStatus) {
		return nil, clientError("jobStatus must be one of %s", strings.Join(jobStatuses, ", "))
	}
	match, err := jobFilter(in.Filters)
	if err != nil {
		return nil, err
	}
	status := in.JobStatus
	if len(in.Filters) > 0 {
		// With filters, Batch ignores jobStatus and lists every status.
		status = ""
	} else if status == "" {
		status = jobRunning
	}
	var candidates []*job
	switch {
	case in.JobQueue != "":
		q := s.findQueue(in.JobQueue)
		if q == nil {
			return nil, clientError("Job Queue %s does not exist", in.JobQueue)
		}
		for _, j := range s.order {
			if j.queue == q && j.parent == nil {
				candidates = append(candidates, j)
			}
		}
	case in.ArrayJobID != "":
		p, ok := s.jobs[in.ArrayJobID]
		if !ok || p.children == nil {
			return nil, clientError("Array job %s does not exist", in.ArrayJobID)
		}
		candidates = p.children
	}
	var all []jobSummary
	for _, j := range candidates {
		if (status == "" || j.d.Status == status) && match(j) {
			all = append(all, j.summary())
		}
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken, 1000)
	if err != nil {
		return nil, err
	}
	return struct {
		JobSummaryList []jobSummary `json:"jobSummaryList"`
		NextToken      string       `json:"nextToken,omitempty"`
	}{page, next}, nil
}

// jobFilter builds ListJobs's filters: JOB_NAME and JOB_DEFINITION (a
// trailing * matches a prefix), BEFORE_CREATED_AT and AFTER_CREATED_AT
// (epoch milliseconds).
func jobFilter(filters []keyValuesPair) (func(*job) bool, error) {
	var preds []func(*job) bool
	for _, f := range filters {
		if len(f.Values) != 1 {
			return nil, clientError("filter %s must have exactly one value", f.Name)
		}
		v := f.Values[0]
		switch f.Name {
		case "JOB_NAME":
			preds = append(preds, func(j *job) bool { return wildcard(v, j.d.JobName) })
		case "JOB_DEFINITION":
			preds = append(preds, func(j *job) bool {
				return wildcard(v, j.d.JobDefinition) || wildcard(v, j.def.JobDefinitionName) ||
					wildcard(v, fmt.Sprintf("%s:%d", j.def.JobDefinitionName, j.def.Revision))
			})
		case "BEFORE_CREATED_AT", "AFTER_CREATED_AT":
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, clientError("filter %s must be a number of milliseconds since the epoch", f.Name)
			}
			before := f.Name == "BEFORE_CREATED_AT"
			preds = append(preds, func(j *job) bool {
				if before {
					return j.d.CreatedAt < ms
				}
				return j.d.CreatedAt > ms
			})
		default:
			return nil, clientError("filter name must be JOB_NAME, JOB_DEFINITION, BEFORE_CREATED_AT or AFTER_CREATED_AT")
		}
	}
	return func(j *job) bool {
		for _, p := range preds {
			if !p(j) {
				return false
			}
		}
		return true
	}, nil
}

// wildcard matches value against a pattern that may end in *.
func wildcard(pattern, value string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(value, p)
	}
	return pattern == value
}

type stopJobInput struct {
	JobID  string `json:"jobId"`
	Reason string `json:"reason"`
}

// terminateJob stops a job whatever its state: a RUNNING job's process is
// killed (SIGTERM, then SIGKILL after the grace); a job that has not run
// yet fails at once. Either way it ends FAILED with the reason given.
func (s *Service) terminateJob(in *stopJobInput) (any, error) {
	return s.stopJob(in, true)
}

// cancelJob fails a job that has not reached STARTING; later jobs are left
// alone, and the call still succeeds, as Batch documents.
func (s *Service) cancelJob(in *stopJobInput) (any, error) {
	return s.stopJob(in, false)
}

func (s *Service) stopJob(in *stopJobInput, terminate bool) (any, error) {
	if in.JobID == "" {
		return nil, clientError("jobId must be specified")
	}
	if in.Reason == "" {
		return nil, clientError("reason must be specified")
	}
	j, ok := s.jobs[in.JobID]
	if !ok {
		return nil, clientError("Job %s does not exist", in.JobID)
	}
	now := s.env.Clock.Now()
	targets := []*job{j}
	if j.children != nil {
		targets = append(targets, j.children...)
	}
	yes := true
	for _, t := range targets {
		switch t.d.Status {
		case jobSubmitted, jobPending, jobRunnable:
			if terminate {
				t.d.IsTerminated = &yes
			} else {
				t.d.IsCancelled = &yes
			}
			if t.children == nil {
				s.fail(t, now, in.Reason)
			}
		case jobStarting:
			if terminate {
				t.d.IsTerminated = &yes
				s.fail(t, now, in.Reason)
			}
		case jobRunning:
			if terminate && t.stopReason == "" {
				t.d.IsTerminated = &yes
				t.stopReason = in.Reason
				s.signalStop(t, now)
			}
		}
	}
	return struct{}{}, nil
}

// fail ends a job that is not running a process.
func (s *Service) fail(j *job, at time.Time, reason string) {
	s.release(j, at)
	j.d.StatusReason = reason
	j.d.StoppedAt = millis(at)
	s.move(j, jobFailed, at)
}

// release gives the job's vCPUs back to its compute environment.
// at is when.
func (s *Service) release(j *job, at time.Time) {
	if j.ce != nil {
		j.ce.used -= j.vcpus
		j.ce.freed = maxTime(j.ce.freed, at)
		j.ce = nil
	}
}
