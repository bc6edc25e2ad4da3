package provision

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/smithy-go"
	"github.com/jonboulle/clockwork"
)

// Action is what up or down does, or would do, to one resource.
type Action string

// The actions, as the plan and the progress lines spell them.
const (
	Create    Action = "create"
	Update    Action = "update"
	Unchanged Action = "unchanged"
	Delete    Action = "delete"
	Absent    Action = "absent"
	// NotOurs is a same-named resource without the stack's tag: up refuses
	// to adopt it and down leaves it alone.
	NotOurs Action = "not-ours"
	// Skipped is an optional resource the endpoint has no service for
	// (an AWS stand-in without X-Ray sampling rules): up goes on without
	// it, and the Result's Detail says why.
	Skipped Action = "skipped"
)

// Result is the outcome for one resource; its JSON form is stable.
type Result struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	ARN    string `json:"arn,omitempty"`
	Action Action `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// Event is progress: a resource's step starting (Done false) or ending.
type Event struct {
	Result
	Done bool
	Err  error
}

// Observer receives progress events; it may be called concurrently.
type Observer func(Event)

// Provisioner creates and removes one stack.
type Provisioner struct {
	names  Names
	region string

	iam   iamAPI
	s3    s3API
	ecr   ecrAPI
	ec2   ec2API
	logs  logsAPI
	xray  xrayAPI
	batch batchAPI
	// events and eventLogs serve the job events' rule, group and policy.
	events    eventsAPI
	eventLogs eventLogsAPI

	clock   clockwork.Clock
	log     *slog.Logger
	observe Observer
	// waits bounds the waits for Batch's asynchronous states.
	waits WaitOptions

	// mu guards results, which the walks' concurrent steps append to.
	mu      sync.Mutex
	results []Result
}

// WaitOptions bound the waits for Batch's compute environments and queues
// and for IAM propagation.
type WaitOptions struct {
	MinDelay, MaxDelay, MaxWait time.Duration
}

// DefaultWaits are the waits New uses when Options.Waits is zero, as the CLI
// does. Batch takes from seconds to minutes to settle a compute environment
// or queue; polls at 2, 6 and then every 5 seconds see a change at most 5 s
// late. A model of the schedule puts a 15 s cap's average overshoot on
// 5-60 s waits at 29% and this one's at 11%, for about four more Describe
// calls a wait.
var DefaultWaits = WaitOptions{MinDelay: 2 * time.Second, MaxDelay: 5 * time.Second, MaxWait: 15 * time.Minute}

// Options configure a Provisioner.
type Options struct {
	Clock    clockwork.Clock
	Logger   *slog.Logger
	Observer Observer
	Waits    WaitOptions
}

// New returns a provisioner for the named stack, using the clients of cfg.
func New(cfg aws.Config, names Names, o Options) *Provisioner {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = func(Event) {}
	}
	if o.Waits.MaxWait == 0 {
		o.Waits = DefaultWaits
	}
	return &Provisioner{
		names:     names,
		region:    cfg.Region,
		iam:       iam.NewFromConfig(cfg),
		s3:        s3.NewFromConfig(cfg),
		ecr:       ecr.NewFromConfig(cfg),
		ec2:       ec2.NewFromConfig(cfg),
		logs:      cloudwatchlogs.NewFromConfig(cfg),
		xray:      xray.NewFromConfig(cfg),
		batch:     batch.NewFromConfig(cfg),
		events:    eventbridge.NewFromConfig(cfg),
		eventLogs: cloudwatchlogs.NewFromConfig(cfg),
		clock:     o.Clock,
		log:       o.Logger,
		observe:   o.Observer,
		waits:     o.Waits,
	}
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// NotImplemented tells an endpoint that does not serve an operation at
// all, as AWS stand-ins answer it: a 501, one of their codes for it, or a
// 404 that is not an AWS error (an HTML page or an empty body, which the
// SDK reads as "invalid character '<'" or an unknown error).
func NotImplemented(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotImplemented:
			return true
		case http.StatusNotFound:
			var de *smithy.DeserializationError
			if errors.As(err, &de) {
				return true
			}
			switch errorCode(err) {
			case "", "UnknownError", "NotFound", "404":
				return true
			}
		}
	}
	switch errorCode(err) {
	case "NotImplemented", "NotImplementedException", "UnknownOperationException", "InvalidAction":
		return true
	}
	return false
}

// isCode reports whether err is an AWS error with one of the codes.
func isCode(err error, codes ...string) bool {
	c := errorCode(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// NotOursError is a resource with the stack's name that does not carry the
// stack's tag: batchxray neither adopts nor deletes it.
type NotOursError struct {
	Kind, Name, Stack string
}

func (e *NotOursError) Error() string {
	return fmt.Sprintf("%s %q exists but is not tagged %s=%s, so it is not this stack's: remove or rename it, or use another --stack", e.Kind, e.Name, TagKey, e.Stack)
}

// stackTags are the tags every resource carries.
func (p *Provisioner) stackTags() map[string]string {
	return map[string]string{TagKey: p.names.Stack, "batchxray:managed-by": "batchxray"}
}

// owned reports whether a tag set marks the resource as this stack's.
func (p *Provisioner) owned(tags map[string]string) bool {
	return tags[TagKey] == p.names.Stack
}
