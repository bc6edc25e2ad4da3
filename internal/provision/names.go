package provision

import (
	"fmt"
	"regexp"
	"sync"
)

// TagKey is the tag every resource of a stack carries, with the stack name
// as its value. Down deletes only what carries it.
const TagKey = "batchxray:stack"

// Names are the names of every resource of a stack. They derive from the
// stack name in one place, NamesFor, so up, down, submit and trace agree.
type Names struct {
	Stack string

	InstanceRole    string
	InstanceProfile string
	JobRole         string
	// JobRolePolicy is the job role's inline policy (S3 on the bucket).
	JobRolePolicy string

	Bucket         string
	Repository     string
	SecurityGroup  string
	LaunchTemplate string
	SamplingRule   string
	LogGroup       string
	// EventsLogGroup records Batch's job state change events, which
	// EventsRule sends there and EventsPolicy lets EventBridge write.
	EventsLogGroup string
	EventsRule     string
	EventsPolicy   string

	ComputeEnvironment string
	JobQueue           string
	JobDefinition      string
}

// MaxStackLen keeps every derived name inside its service's limit; the
// tightest are the bucket (63 with account and region in it) and the X-Ray
// sampling rule (32).
const MaxStackLen = 20

// stackPattern is compiled on first use, not at init: every command pays
// for what the packages it links do at init.
var stackPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$`)
})

// StackNameError is a stack name that breaks a rule; it names the rule.
type StackNameError struct {
	Stack string
	Rule  string
}

func (e *StackNameError) Error() string {
	return fmt.Sprintf("invalid stack name %q: %s", e.Stack, e.Rule)
}

// ValidateStack checks a stack name before any call is made, so that every
// name derived from it is valid for its service.
func ValidateStack(stack string) error {
	switch {
	case stack == "":
		return &StackNameError{stack, "it must not be empty"}
	case len(stack) > MaxStackLen:
		return &StackNameError{stack, fmt.Sprintf("at most %d characters, since the S3 bucket name (63 at most) holds it with the account and region", MaxStackLen)}
	case !stackPattern().MatchString(stack):
		return &StackNameError{stack, "lowercase letters, digits and hyphens only, starting with a letter and not ending with a hyphen, since S3 bucket names allow no more"}
	}
	for i := 1; i < len(stack); i++ {
		if stack[i] == '-' && stack[i-1] == '-' {
			return &StackNameError{stack, "no two hyphens in a row"}
		}
	}
	return nil
}

// NamesFor derives every resource name of a stack. The account and region
// go into the bucket name, since bucket names are global.
func NamesFor(stack, account, region string) (Names, error) {
	if err := ValidateStack(stack); err != nil {
		return Names{}, err
	}
	n := Names{
		Stack:              stack,
		InstanceRole:       stack + "-instance",
		InstanceProfile:    stack + "-instance",
		JobRole:            stack + "-job",
		JobRolePolicy:      "batchxray-bucket-access",
		Bucket:             fmt.Sprintf("batchxray-%s-%s-%s", stack, account, region),
		Repository:         "batchxray/" + stack,
		SecurityGroup:      stack + "-batch",
		LaunchTemplate:     stack + "-xray",
		SamplingRule:       "batchxray-" + stack,
		LogGroup:           "/batchxray/" + stack,
		EventsLogGroup:     "/batchxray/" + stack + "/events",
		EventsRule:         "batchxray-" + stack + "-jobs",
		EventsPolicy:       "batchxray-" + stack + "-events",
		ComputeEnvironment: stack + "-ce",
		JobQueue:           stack + "-queue",
		JobDefinition:      stack + "-job",
	}
	if len(n.Bucket) > 63 {
		return Names{}, &StackNameError{stack, fmt.Sprintf("the bucket name %q would be longer than 63 characters", n.Bucket)}
	}
	return n, nil
}

// ServiceName is the X-Ray service name of the stack's jobs' segments.
const ServiceName = "BatchJob"
