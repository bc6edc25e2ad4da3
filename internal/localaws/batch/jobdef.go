package batch

import (
	"fmt"
	"strconv"
	"strings"
)

const (
	defActive   = "ACTIVE"
	defInactive = "INACTIVE"
)

type registerJobDefinitionInput struct {
	JobDefinitionName    string               `json:"jobDefinitionName"`
	Type                 string               `json:"type"`
	Parameters           map[string]string    `json:"parameters"`
	ContainerProperties  *containerProperties `json:"containerProperties"`
	RetryStrategy        *retryStrategy       `json:"retryStrategy"`
	Timeout              *jobTimeout          `json:"timeout"`
	Tags                 map[string]string    `json:"tags"`
	PropagateTags        *bool                `json:"propagateTags"`
	PlatformCapabilities []string             `json:"platformCapabilities"`
}

func validateRetry(r *retryStrategy) error {
	if r == nil {
		return nil
	}
	if r.Attempts != 0 && (r.Attempts < 1 || r.Attempts > 10) {
		return clientError("retryStrategy.attempts must be between 1 and 10")
	}
	if len(r.EvaluateOnExit) > 5 {
		return clientError("retryStrategy.evaluateOnExit can have at most 5 conditions")
	}
	for _, e := range r.EvaluateOnExit {
		if a := strings.ToUpper(e.Action); a != "RETRY" && a != "EXIT" {
			return clientError("evaluateOnExit.action must be RETRY or EXIT")
		}
	}
	return nil
}

// validateTimeout keeps Batch's floor: an attempt may be limited to no less
// than 60 seconds.
func validateTimeout(t *jobTimeout) error {
	if t != nil && t.AttemptDurationSeconds != 0 && t.AttemptDurationSeconds < 60 {
		return clientError("timeout.attemptDurationSeconds must be at least 60 seconds")
	}
	return nil
}

func (s *Service) registerJobDefinition(in *registerJobDefinitionInput) (any, error) {
	if !namePattern().MatchString(in.JobDefinitionName) {
		return nil, clientError("jobDefinitionName must be 1 to 128 characters long and contain only letters, numbers, hyphens (-) and underscores (_)")
	}
	switch in.Type {
	case "container":
	case "multinode":
		return nil, clientError("batchxray local does not run multinode job definitions")
	default:
		return nil, clientError("type must be container or multinode")
	}
	cp := in.ContainerProperties
	if cp == nil {
		return nil, clientError("containerProperties must be specified for a container job definition")
	}
	if cp.Image == "" {
		return nil, clientError("containerProperties.image must be specified")
	}
	for _, kv := range cp.Environment {
		if strings.HasPrefix(kv.Name, "AWS_BATCH") {
			return nil, clientError("Environment variable names can't start with AWS_BATCH; it is reserved for variables that Batch sets")
		}
	}
	if err := validateResources(cp.ResourceRequirements); err != nil {
		return nil, err
	}
	if err := validateEC2Resources(cp.ResourceRequirements, cp.Vcpus, cp.Memory, false); err != nil {
		return nil, err
	}
	if lc := cp.LogConfiguration; lc != nil && lc.LogDriver == "" {
		return nil, clientError("logConfiguration.logDriver must be specified")
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
	caps := in.PlatformCapabilities
	if len(caps) == 0 {
		caps = []string{"EC2"}
	}
	revs := s.defs[in.JobDefinitionName]
	rev := int32(len(revs) + 1)
	d := &jobDefinition{
		JobDefinitionName:      in.JobDefinitionName,
		JobDefinitionArn:       s.arn(fmt.Sprintf("job-definition/%s:%d", in.JobDefinitionName, rev)),
		Revision:               rev,
		Status:                 defActive,
		Type:                   in.Type,
		Parameters:             in.Parameters,
		RetryStrategy:          in.RetryStrategy,
		ContainerProperties:    cp,
		Timeout:                in.Timeout,
		Tags:                   in.Tags,
		PropagateTags:          in.PropagateTags,
		PlatformCapabilities:   caps,
		ContainerOrchestration: "ECS",
	}
	s.defs[in.JobDefinitionName] = append(revs, d)
	return struct {
		JobDefinitionName string `json:"jobDefinitionName"`
		JobDefinitionArn  string `json:"jobDefinitionArn"`
		Revision          int32  `json:"revision"`
	}{d.JobDefinitionName, d.JobDefinitionArn, d.Revision}, nil
}

func validateResources(rr []resourceRequirement) error {
	for _, r := range rr {
		switch r.Type {
		case "VCPU", "MEMORY":
			if n, err := strconv.ParseFloat(r.Value, 64); err != nil || n <= 0 {
				return clientError("resourceRequirements %s value %q must be a positive number", r.Type, r.Value)
			}
		case "GPU":
		default:
			return clientError("resourceRequirements type must be GPU, MEMORY or VCPU")
		}
	}
	return nil
}

// The least an EC2 job may ask for. "You must specify at least 4 MiB of
// memory for a job" (AWS Batch API Reference, ResourceRequirement, MEMORY);
// "For jobs that are running on EC2 resources, you must specify at least one
// vCPU" (ResourceRequirement, VCPU).
const (
	minEC2VCPUs     = 1
	minEC2MemoryMiB = 4
)

// validateEC2Resources keeps the EC2 floor on a job's vCPUs and memory
// (resourceRequirements, else the older vcpus and memory fields). A job
// definition may leave them to the submit's overrides; a submitted job
// (required) must have both.
func validateEC2Resources(rr []resourceRequirement, vcpus, memory *int32, required bool) error {
	v, vok := resourceValue(rr, "VCPU", vcpus)
	m, mok := resourceValue(rr, "MEMORY", memory)
	switch {
	case vok && v < minEC2VCPUs:
		return clientError("vCPUs %v is below the minimum: a job on EC2 resources must have at least %d vCPU", v, minEC2VCPUs)
	case mok && m < minEC2MemoryMiB:
		return clientError("memory %v MiB is below the minimum: a job must have at least %d MiB of memory", m, minEC2MemoryMiB)
	case required && !vok:
		return clientError("A job on EC2 resources must specify vCPUs (resourceRequirements VCPU) in its job definition or its container overrides")
	case required && !mok:
		return clientError("A job must specify memory (resourceRequirements MEMORY) in its job definition or its container overrides")
	}
	return nil
}

// resourceValue is the job's amount of a resource: its resourceRequirement,
// else the legacy field, and whether either is set.
func resourceValue(rr []resourceRequirement, typ string, legacy *int32) (float64, bool) {
	for _, r := range rr {
		if r.Type == typ {
			f, err := strconv.ParseFloat(r.Value, 64)
			return f, err == nil
		}
	}
	if legacy != nil {
		return float64(*legacy), true
	}
	return 0, false
}

// findDef resolves a job definition by name (its latest ACTIVE revision),
// name:revision, or ARN.
func (s *Service) findDef(ref string) *jobDefinition {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		i := strings.Index(ref, ":job-definition/")
		if i < 0 {
			return nil
		}
		name = ref[i+len(":job-definition/"):]
	}
	if n, r, ok := strings.Cut(name, ":"); ok {
		rev, err := strconv.Atoi(r)
		revs := s.defs[n]
		if err != nil || rev < 1 || rev > len(revs) {
			return nil
		}
		return revs[rev-1]
	}
	revs := s.defs[name]
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].Status == defActive {
			return revs[i]
		}
	}
	return nil
}

type describeJobDefinitionsInput struct {
	JobDefinitions    []string `json:"jobDefinitions"`
	JobDefinitionName string   `json:"jobDefinitionName"`
	Status            string   `json:"status"`
	MaxResults        int32    `json:"maxResults"`
	NextToken         string   `json:"nextToken"`
}

func (s *Service) describeJobDefinitions(in *describeJobDefinitionsInput) (any, error) {
	if len(in.JobDefinitions) > 100 {
		return nil, clientError("jobDefinitions can list at most 100 job definitions")
	}
	if in.Status != "" && in.Status != defActive && in.Status != defInactive {
		return nil, clientError("status must be ACTIVE or INACTIVE")
	}
	var all []jobDefinition
	keep := func(d *jobDefinition) {
		if in.Status == "" || d.Status == in.Status {
			all = append(all, *d)
		}
	}
	switch {
	case len(in.JobDefinitions) > 0:
		for _, ref := range in.JobDefinitions {
			if strings.Contains(strings.TrimPrefix(ref, "arn:"), ":") || strings.HasPrefix(ref, "arn:") {
				if d := s.findDef(ref); d != nil {
					keep(d)
				}
				continue
			}
			for _, d := range s.defs[ref] {
				keep(d)
			}
		}
	default:
		for _, revs := range sortedByName(s.defs, func(r []*jobDefinition) string { return r[0].JobDefinitionName }) {
			if in.JobDefinitionName != "" && revs[0].JobDefinitionName != in.JobDefinitionName {
				continue
			}
			for _, d := range revs {
				keep(d)
			}
		}
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		JobDefinitions []jobDefinition `json:"jobDefinitions"`
		NextToken      string          `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type deregisterJobDefinitionInput struct {
	JobDefinition string `json:"jobDefinition"`
}

func (s *Service) deregisterJobDefinition(in *deregisterJobDefinitionInput) (any, error) {
	ref := in.JobDefinition
	if !strings.HasPrefix(ref, "arn:") && !strings.Contains(ref, ":") {
		return nil, clientError("jobDefinition must be name:revision or an ARN")
	}
	d := s.findDef(ref)
	if d == nil {
		return nil, clientError("Job definition %s does not exist", ref)
	}
	d.Status = defInactive
	return struct{}{}, nil
}
