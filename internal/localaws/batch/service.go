package batch

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Profiles is what Batch asks IAM: whether an instance profile exists and
// has propagated, so a compute environment can launch instances with it.
type Profiles interface {
	InstanceProfileVisible(nameOrARN string) bool
}

// Logs is where the awslogs driver sends a job's output: one event a line.
type Logs interface {
	Write(group, stream string, at time.Time, message string)
}

// Events hears of every job state change after SUBMITTED, as EventBridge
// does: detail is the job's JobDetail in DescribeJobs' JSON, at when it
// entered the state. It is called with the service's lock held.
type Events interface {
	JobStateChange(at time.Time, jobARN string, detail []byte)
}

// Config wires the service to the rest of the stand-in.
type Config struct {
	// Events receives the job state changes (nil: none are sent).
	Events Events
	// Profiles answers whether a compute environment's instance profile
	// can be used (nil: every profile can).
	Profiles Profiles
	// Logs receives the jobs' output (nil: it is dropped).
	Logs Logs
	// Endpoint is the stand-in's URL, given to jobs as AWS_ENDPOINT_URL.
	Endpoint func() string
	// DaemonAddr is the stand-in's X-Ray daemon address, given to jobs as
	// AWS_XRAY_DAEMON_ADDRESS when it is not "".
	DaemonAddr func() string
	// OTLPAddr is the stand-in's OTLP receiver, OTEL_EXPORTER_OTLP_ENDPOINT (nil or "": none).
	OTLPAddr func() string
	// Executable replaces the word batchxray as a job command's argv[0].
	Executable string
	// Images reads the stand-in's registry (nil: no image can be read, so
	// none is checked).
	Images Images
	// ResourceDelay is how long compute environments and job queues stay
	// CREATING, UPDATING or DELETING.
	ResourceDelay time.Duration
	// JobStep is the least time a job spends in each state before RUNNING
	// (default 100ms).
	JobStep time.Duration
	// KillGrace is how long a job's process has after SIGTERM before it is
	// killed (default 30s, as ECS's stop timeout).
	KillGrace time.Duration
	// Retention is how long Batch still returns a job after it ended
	// (default DefaultRetention; negative: forever).
	Retention time.Duration
}

// Service is the stand-in's AWS Batch.
type Service struct {
	awsproto.RESTJSON
	env awsproto.Env
	cfg Config

	mu     sync.Mutex
	ces    map[string]*computeEnv // by name
	queues map[string]*jobQueue   // by name
	defs   map[string][]*jobDefinition
	jobs   map[string]*job
	order  []*job // every job, in submission order
	// images are the images read for jobs, by digest.
	images map[string]*imageFS
	// viewRoot holds the images' host views (see viewDir), removed by Close.
	viewRoot string
	seq      int64
	closed   bool

	stop    chan struct{}
	stopped chan struct{}
	procs   sync.WaitGroup
}

// New returns the Batch service and starts its scheduler; Close stops it.
func New(env awsproto.Env, cfg Config) *Service {
	if cfg.JobStep <= 0 {
		cfg.JobStep = 100 * time.Millisecond
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 30 * time.Second
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Executable == "" {
		cfg.Executable = DefaultExecutable()
	}
	if cfg.Endpoint == nil {
		cfg.Endpoint = func() string { return "" }
	}
	if cfg.DaemonAddr == nil {
		cfg.DaemonAddr = func() string { return "" }
	}
	s := &Service{
		env:     env,
		cfg:     cfg,
		ces:     map[string]*computeEnv{},
		queues:  map[string]*jobQueue{},
		defs:    map[string][]*jobDefinition{},
		jobs:    map[string]*job{},
		images:  map[string]*imageFS{},
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s.RESTJSON = awsproto.RESTJSON{
		Name:     "batch",
		Routes:   routes(),
		Ops:      s.operations(),
		Throttle: awsproto.Errorf(http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests"),
	}
	go s.loop()
	return s
}

// loop settles the state on every step of the clock, so that resources
// and jobs move on even when nobody asks about them.
func (s *Service) loop() {
	defer close(s.stopped)
	t := s.env.Clock.NewTicker(s.cfg.JobStep)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.Chan():
			s.mu.Lock()
			s.settle()
			s.sampleMemory()
			s.mu.Unlock()
		}
	}
}

// Close stops the scheduler and kills every job process still running.
func (s *Service) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, j := range s.order {
		if j.proc != nil {
			j.proc.kill()
		}
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.stopped
	s.procs.Wait()
	s.removeViews()
}

// routes names each Batch operation by its path, /v1/ and the lowercase
// name; the tags operations share /v1/tags/{resourceArn} by method.
var routes = sync.OnceValue(func() map[string]string {
	routes := map[string]string{
		"GET " + tagsPrefix:    "ListTagsForResource",
		"POST " + tagsPrefix:   "TagResource",
		"DELETE " + tagsPrefix: "UntagResource",
	}
	for _, op := range []string{
		"CancelJob", "CreateComputeEnvironment", "CreateConsumableResource", "CreateJobQueue",
		"CreateQuotaShare", "CreateSchedulingPolicy", "CreateServiceEnvironment",
		"DeleteComputeEnvironment", "DeleteConsumableResource", "DeleteJobQueue", "DeleteQuotaShare",
		"DeleteSchedulingPolicy", "DeleteServiceEnvironment", "DeregisterJobDefinition",
		"DescribeComputeEnvironments", "DescribeConsumableResource", "DescribeJobDefinitions",
		"DescribeJobQueues", "DescribeJobs", "DescribeQuotaShare", "DescribeSchedulingPolicies",
		"DescribeServiceEnvironments", "DescribeServiceJob", "GetJobQueueSnapshot",
		"ListConsumableResources", "ListJobs", "ListJobsByConsumableResource", "ListQuotaShares",
		"ListSchedulingPolicies", "ListServiceJobs", "RegisterJobDefinition", "SubmitJob",
		"SubmitServiceJob", "TerminateJob", "TerminateServiceJob", "UpdateComputeEnvironment",
		"UpdateConsumableResource", "UpdateJobQueue", "UpdateQuotaShare", "UpdateSchedulingPolicy",
		"UpdateServiceEnvironment", "UpdateServiceJob",
	} {
		routes["POST /v1/"+strings.ToLower(op)] = op
	}
	return routes
})

const tagsPrefix = "/v1/tags/"

// clientError is Batch's ClientException: the caller's mistake, HTTP 400.
func clientError(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "ClientException", format, a...)
}

// asError is the error Batch answers: an unexpected failure is its
// ServerException (HTTP 500).
func asError(err error) *awsproto.Error {
	var e *awsproto.Error
	if errors.As(err, &e) {
		return e
	}
	return &awsproto.Error{Code: "ServerException", Message: err.Error(), Status: http.StatusInternalServerError}
}

type handler func(s *Service, r *http.Request, body []byte) (any, error)

// operations are Batch's operations by name. Each runs under the lock,
// encoding included: the answer shares maps and slices with the state that
// jobs keep changing. The state is brought up to the clock before the call,
// and again after it, so that what the call changed takes effect at once.
func (s *Service) operations() map[string]func(*http.Request) (any, error) {
	op := func(h handler) func(*http.Request) (any, error) {
		return func(r *http.Request) (any, error) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, clientError("read request body: %v", err)
			}
			s.mu.Lock()
			s.settle()
			out, err := h(s, r, body)
			s.settle()
			var b []byte
			if err == nil {
				b, err = json.Marshal(out)
			}
			s.mu.Unlock()
			if err != nil {
				return nil, asError(err)
			}
			return json.RawMessage(b), nil
		}
	}
	return map[string]func(*http.Request) (any, error){
		"CreateComputeEnvironment":    op(decode((*Service).createComputeEnvironment)),
		"DescribeComputeEnvironments": op(decode((*Service).describeComputeEnvironments)),
		"UpdateComputeEnvironment":    op(decode((*Service).updateComputeEnvironment)),
		"DeleteComputeEnvironment":    op(decode((*Service).deleteComputeEnvironment)),
		"CreateJobQueue":              op(decode((*Service).createJobQueue)),
		"DescribeJobQueues":           op(decode((*Service).describeJobQueues)),
		"UpdateJobQueue":              op(decode((*Service).updateJobQueue)),
		"DeleteJobQueue":              op(decode((*Service).deleteJobQueue)),
		"RegisterJobDefinition":       op(decode((*Service).registerJobDefinition)),
		"DescribeJobDefinitions":      op(decode((*Service).describeJobDefinitions)),
		"DeregisterJobDefinition":     op(decode((*Service).deregisterJobDefinition)),
		"SubmitJob":                   op(decode((*Service).submitJob)),
		"DescribeJobs":                op(decode((*Service).describeJobs)),
		"ListJobs":                    op(decode((*Service).listJobs)),
		"TerminateJob":                op(decode((*Service).terminateJob)),
		"CancelJob":                   op(decode((*Service).cancelJob)),
		"TagResource":                 op(tagResource),
		"UntagResource":               op(untagResource),
		"ListTagsForResource":         op(listTagsForResource),
	}
}

// decode adapts an operation that takes its decoded JSON input.
func decode[In any](f func(*Service, *In) (any, error)) handler {
	return func(s *Service, _ *http.Request, body []byte) (any, error) {
		in := new(In)
		if len(body) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, clientError("Invalid request body: %v", err)
			}
		}
		return f(s, in)
	}
}

// resourceARN is the ARN in a tags path, /v1/tags/{resourceArn}, where the
// SDK escapes the ARN's slashes.
func resourceARN(r *http.Request) (string, error) {
	return url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), tagsPrefix))
}

func (s *Service) arn(resource string) string {
	return s.env.ARN("batch", s.env.Region, resource)
}

func millis(t time.Time) int64 { return t.UnixMilli() }
