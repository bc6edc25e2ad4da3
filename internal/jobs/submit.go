package jobs

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"

	"github.com/batchxray/batchxray/internal/traceid"
)

// Batch's limits on SubmitJob, checked before the call so a mistake is a
// usage error with the rule in it.
const (
	MinArraySize   = 2
	MaxArraySize   = 10000
	MinAttempts    = 1
	MaxAttempts    = 10
	MinTimeout     = 60 * time.Second
	reservedPrefix = "AWS_BATCH"
	// MinVCPUs and MinMemoryMiB are what a job on EC2 resources must ask
	// for at least.
	MinVCPUs     = 1
	MinMemoryMiB = 4
)

// jobNamePattern is compiled on first use, so that no command pays for it
// at start-up.
var jobNamePattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
})

// Spec is a job to submit to a stack.
type Spec struct {
	// Stack and Region name the stack in errors.
	Stack  string
	Region string
	// TagKey is the tag the stack's job definition must carry with the
	// stack name as its value.
	TagKey string
	// Queue and Definition are the stack's job queue and job definition.
	Queue      string
	Definition string

	Name      string
	ArraySize int
	DependsOn []string
	// Env are KEY=VALUE pairs for the container, in order.
	Env []string
	// Timeout is each attempt's limit; zero keeps the job definition's.
	Timeout time.Duration
	// Attempts is the retry strategy's attempts; zero keeps the job
	// definition's.
	Attempts int
	// VCPUs and MemoryMiB override the job definition's request when set.
	VCPUs     float64
	MemoryMiB int
	// Command runs under `batchxray job --`; empty runs the sample work.
	Command []string
	// URL is what the sample work fetches; empty keeps the job
	// definition's.
	URL string
}

// Validate checks the spec against Batch's rules, and reports the first
// one broken.
func (s Spec) Validate() error {
	switch {
	case !jobNamePattern().MatchString(s.Name):
		return fmt.Errorf("invalid job name %q: 1 to 128 letters, digits, hyphens and underscores, starting with a letter or digit", s.Name)
	case s.ArraySize != 0 && (s.ArraySize < MinArraySize || s.ArraySize > MaxArraySize):
		return fmt.Errorf("invalid array size %d: from %d to %d", s.ArraySize, MinArraySize, MaxArraySize)
	case s.Attempts != 0 && (s.Attempts < MinAttempts || s.Attempts > MaxAttempts):
		return fmt.Errorf("invalid retries %d: Batch makes from %d to %d attempts", s.Attempts, MinAttempts, MaxAttempts)
	case s.Timeout != 0 && s.Timeout < MinTimeout:
		return fmt.Errorf("invalid timeout %s: Batch allows no less than %s", s.Timeout, MinTimeout)
	case s.VCPUs != 0 && s.VCPUs < MinVCPUs:
		return fmt.Errorf("invalid vCPUs %s: a job on EC2 asks for at least %d", fmtVCPUs(s.VCPUs), MinVCPUs)
	case s.MemoryMiB != 0 && s.MemoryMiB < MinMemoryMiB:
		return fmt.Errorf("invalid memory %d MiB: a job on EC2 asks for at least %d MiB", s.MemoryMiB, MinMemoryMiB)
	case len(s.Command) > 0 && s.URL != "":
		return fmt.Errorf("a URL is for the sample work and cannot go with a command after --")
	}
	for _, kv := range s.Env {
		k, _, ok := strings.Cut(kv, "=")
		switch {
		case !ok || k == "":
			return fmt.Errorf("invalid environment variable %q: want KEY=VALUE", kv)
		case strings.HasPrefix(k, reservedPrefix):
			return fmt.Errorf("invalid environment variable %s: names starting with %s are reserved for Batch", k, reservedPrefix)
		case k == traceid.EnvVar:
			return fmt.Errorf("invalid environment variable %s: submit sets the job's trace header itself", k)
		}
	}
	for _, id := range s.DependsOn {
		if id == "" {
			return fmt.Errorf("invalid dependency: an empty job ID")
		}
	}
	return nil
}

// StackNotFoundError is a stack whose job definition is not there: it was
// never brought up, or was taken down.
type StackNotFoundError struct {
	Stack, Region string
}

func (e *StackNotFoundError) Error() string {
	return fmt.Sprintf("stack %q not found in %s: run batchxray up", e.Stack, e.Region)
}

// NotFound marks the error for exit code 4.
func (e *StackNotFoundError) NotFound() bool { return true }

// Submission is what SubmitJob returned, and the trace decided for the job.
type Submission struct {
	ID   string `json:"jobId"`
	Name string `json:"jobName"`
	ARN  string `json:"jobArn"`
	// TraceID is the job's trace (an array parent's: each child's derives
	// from it by traceid.Child).
	TraceID string `json:"traceId"`
	// SegmentErr, when not nil, is a *SegmentError: the job was submitted
	// but its submit segment was not recorded. Say so, once.
	SegmentErr error `json:"-"`
}

// Submit submits the job to the stack's queue with the newest ACTIVE
// revision of the stack's job definition, which must carry the stack's
// tag. It decides the job's trace first: a new trace ID, tagged on the job
// (TraceTagKey) and passed to its container as the trace header
// (_X_AMZN_TRACE_ID) under a `batchxray submit` segment, which it sends
// with o.XRay once SubmitJob returned. Failing to send it is no error of
// Submit's: see Submission.SegmentErr.
func Submit(ctx context.Context, c SubmitAPI, s Spec, o SubmitOptions) (Submission, error) {
	if err := s.Validate(); err != nil {
		return Submission{}, err
	}
	tc, err := newTraceContext(o)
	if err != nil {
		return Submission{}, err
	}
	def, err := definition(ctx, c, s)
	if err != nil {
		return Submission{}, err
	}
	in := s.input(aws.ToString(def.JobDefinitionArn), containerCommand(def, s.Command), tc)
	callStart := o.now()
	out, err := c.SubmitJob(ctx, in)
	callEnd := o.now()
	if err != nil {
		return Submission{}, fmt.Errorf("submit job %q to %s: %w", s.Name, s.Queue, err)
	}
	sub := Submission{ID: aws.ToString(out.JobId), Name: aws.ToString(out.JobName), ARN: aws.ToString(out.JobArn), TraceID: tc.traceID}
	if o.XRay != nil {
		if err := tc.sendSegment(ctx, o.XRay, s.Region, sub, in, callStart, callEnd); err != nil {
			sub.SegmentErr = &SegmentError{TraceID: tc.traceID, Err: err}
		}
	}
	return sub, nil
}

// definition is the newest ACTIVE revision of the stack's job definition.
func definition(ctx context.Context, c SubmitAPI, s Spec) (*types.JobDefinition, error) {
	var newest *types.JobDefinition
	pages := batch.NewDescribeJobDefinitionsPaginator(c, &batch.DescribeJobDefinitionsInput{
		JobDefinitionName: aws.String(s.Definition),
		Status:            aws.String("ACTIVE"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe job definition %q: %w", s.Definition, err)
		}
		for i := range page.JobDefinitions {
			d := &page.JobDefinitions[i]
			if newest == nil || aws.ToInt32(d.Revision) > aws.ToInt32(newest.Revision) {
				newest = d
			}
		}
	}
	if newest == nil {
		return nil, &StackNotFoundError{Stack: s.Stack, Region: s.Region}
	}
	if newest.Tags[s.TagKey] != s.Stack {
		return nil, fmt.Errorf("job definition %s is not stack %q's (it lacks the tag %s=%s): pick another --stack", s.Definition, s.Stack, s.TagKey, s.Stack)
	}
	return newest, nil
}

// input builds SubmitJob's input: command is the user's command as the job
// definition runs it (containerCommand); the job name goes into the
// environment, since Batch gives the container none, and so does the trace
// header.
func (s Spec) input(def string, command []string, tc traceContext) *batch.SubmitJobInput {
	env := []types.KeyValuePair{{Name: aws.String("BATCHXRAY_JOB_NAME"), Value: aws.String(s.Name)}}
	if s.URL != "" {
		env = append(env, types.KeyValuePair{Name: aws.String("BATCHXRAY_URL"), Value: aws.String(s.URL)})
	}
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		// A later --env wins, as it would in a shell.
		env = slices.DeleteFunc(env, func(p types.KeyValuePair) bool { return aws.ToString(p.Name) == k })
		env = append(env, types.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	env = append(env, types.KeyValuePair{Name: aws.String(traceid.EnvVar), Value: aws.String(tc.header())})
	o := &types.ContainerOverrides{Environment: env}
	o.Command = command
	if s.VCPUs > 0 {
		o.ResourceRequirements = append(o.ResourceRequirements, types.ResourceRequirement{Type: types.ResourceTypeVcpu, Value: aws.String(fmtVCPUs(s.VCPUs))})
	}
	if s.MemoryMiB > 0 {
		o.ResourceRequirements = append(o.ResourceRequirements, types.ResourceRequirement{Type: types.ResourceTypeMemory, Value: aws.String(strconv.Itoa(s.MemoryMiB))})
	}
	in := &batch.SubmitJobInput{
		JobName:            aws.String(s.Name),
		JobQueue:           aws.String(s.Queue),
		JobDefinition:      aws.String(def),
		ContainerOverrides: o,
		Tags:               map[string]string{TraceTagKey: tc.traceID},
	}
	if s.ArraySize > 0 {
		in.ArrayProperties = &types.ArrayProperties{Size: aws.Int32(int32(s.ArraySize))}
	}
	for _, id := range s.DependsOn {
		in.DependsOn = append(in.DependsOn, types.JobDependency{JobId: aws.String(id)})
	}
	if s.Timeout > 0 {
		in.Timeout = &types.JobTimeout{AttemptDurationSeconds: aws.Int32(int32(s.Timeout / time.Second))}
	}
	if s.Attempts > 0 {
		in.RetryStrategy = &types.RetryStrategy{Attempts: aws.Int32(int32(s.Attempts))}
	}
	return in
}
