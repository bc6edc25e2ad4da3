package batch

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Statuses and states of compute environments and job queues.
const (
	statusCreating = "CREATING"
	statusUpdating = "UPDATING"
	statusDeleting = "DELETING"
	statusValid    = "VALID"
	statusInvalid  = "INVALID"
	stateEnabled   = "ENABLED"
	stateDisabled  = "DISABLED"
)

// namePattern is Batch's rule for compute environment, job queue, job
// definition and job names: up to 128 letters, digits, hyphens and
// underscores.
var namePattern = awsproto.Pattern(`^[A-Za-z0-9_-]{1,128}$`)

type computeEnv struct {
	d computeEnvironmentDetail
	// until is when the current CREATING, UPDATING or DELETING ends.
	until time.Time
	// used is the vCPUs of the jobs placed on it (STARTING or RUNNING).
	used int32
	// freed is when a job last gave its vCPUs back: a job that waited for
	// room starts no earlier.
	freed time.Time
}

func (ce *computeEnv) managed() bool { return ce.d.Type == "MANAGED" }

// capacity is the most vCPUs the environment runs at once; an unmanaged
// environment's instances are the user's, so the stand-in does not bound it.
func (ce *computeEnv) capacity() int32 {
	if ce.managed() && ce.d.ComputeResources != nil && ce.d.ComputeResources.MaxvCpus != nil {
		return *ce.d.ComputeResources.MaxvCpus
	}
	return 1 << 30
}

func (ce *computeEnv) usable() bool {
	return ce.d.State == stateEnabled && ce.d.Status == statusValid
}

// serviceLinkedRole is the role Batch uses when a compute environment names
// no service role.
func (s *Service) serviceLinkedRole() string {
	return s.env.ARN("iam", "", "role/aws-service-role/batch.amazonaws.com/AWSServiceRoleForBatch")
}

// findCE looks a compute environment up by name or ARN.
func (s *Service) findCE(nameOrARN string) *computeEnv {
	if ce, ok := s.ces[nameOrARN]; ok {
		return ce
	}
	for _, ce := range s.ces {
		if ce.d.ComputeEnvironmentArn == nameOrARN {
			return ce
		}
	}
	return nil
}

type createComputeEnvironmentInput struct {
	ComputeEnvironmentName string            `json:"computeEnvironmentName"`
	Type                   string            `json:"type"`
	State                  string            `json:"state"`
	UnmanagedvCpus         *int32            `json:"unmanagedvCpus"`
	ComputeResources       *computeResources `json:"computeResources"`
	ServiceRole            string            `json:"serviceRole"`
	Tags                   map[string]string `json:"tags"`
}

func validState(state string) bool { return state == stateEnabled || state == stateDisabled }

func (s *Service) createComputeEnvironment(in *createComputeEnvironmentInput) (any, error) {
	if !namePattern().MatchString(in.ComputeEnvironmentName) {
		return nil, clientError("computeEnvironmentName must be 1 to 128 characters long and contain only letters, numbers, hyphens (-) and underscores (_)")
	}
	if in.Type != "MANAGED" && in.Type != "UNMANAGED" {
		return nil, clientError("type must be MANAGED or UNMANAGED")
	}
	if in.State == "" {
		in.State = stateEnabled
	}
	if !validState(in.State) {
		return nil, clientError("state must be ENABLED or DISABLED")
	}
	if in.Type == "MANAGED" {
		if err := validateComputeResources(in.ComputeResources); err != nil {
			return nil, err
		}
		if len(in.ComputeResources.Ec2Configuration) == 0 && isEC2(in.ComputeResources.Type) {
			in.ComputeResources.Ec2Configuration = []ec2Configuration{{ImageType: "ECS_AL2023"}}
		}
	} else if in.ComputeResources != nil {
		return nil, clientError("computeResources can't be specified for an UNMANAGED compute environment")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	if _, ok := s.ces[in.ComputeEnvironmentName]; ok {
		return nil, clientError("Object already exists")
	}
	role := in.ServiceRole
	if role == "" {
		role = s.serviceLinkedRole()
	} else if !strings.HasPrefix(role, "arn:") {
		role = s.env.ARN("iam", "", "role/"+role)
	}
	uuid := awsproto.NewRequestID()
	ce := &computeEnv{
		d: computeEnvironmentDetail{
			ComputeEnvironmentName: in.ComputeEnvironmentName,
			ComputeEnvironmentArn:  s.arn("compute-environment/" + in.ComputeEnvironmentName),
			UUID:                   uuid,
			EcsClusterArn:          s.env.ARN("ecs", s.env.Region, "cluster/AWSBatch-"+in.ComputeEnvironmentName+"-"+uuid),
			Tags:                   in.Tags,
			Type:                   in.Type,
			State:                  in.State,
			Status:                 statusCreating,
			StatusReason:           "Creating compute environment",
			ComputeResources:       in.ComputeResources,
			ServiceRole:            role,
			UnmanagedvCpus:         in.UnmanagedvCpus,
			ContainerOrchestration: "ECS",
		},
		until: s.env.Clock.Now().Add(s.cfg.ResourceDelay),
	}
	s.ces[in.ComputeEnvironmentName] = ce
	return map[string]string{
		"computeEnvironmentName": ce.d.ComputeEnvironmentName,
		"computeEnvironmentArn":  ce.d.ComputeEnvironmentArn,
	}, nil
}

func isEC2(typ string) bool { return typ == "EC2" || typ == "SPOT" }

func validateComputeResources(cr *computeResources) error {
	if cr == nil {
		return clientError("computeResources must be specified for a MANAGED compute environment")
	}
	switch cr.Type {
	case "EC2", "SPOT", "FARGATE", "FARGATE_SPOT":
	default:
		return clientError("computeResources.type must be one of EC2, SPOT, FARGATE or FARGATE_SPOT")
	}
	if cr.MaxvCpus == nil {
		return clientError("computeResources.maxvCpus must be specified")
	}
	if len(cr.Subnets) == 0 {
		return clientError("computeResources.subnets must be specified")
	}
	if isEC2(cr.Type) {
		if cr.InstanceRole == "" {
			return clientError("computeResources.instanceRole must be specified for EC2 and SPOT compute resources")
		}
		if len(cr.InstanceTypes) == 0 {
			return clientError("computeResources.instanceTypes must be specified for EC2 and SPOT compute resources")
		}
		minv, maxv := int32(0), *cr.MaxvCpus
		if cr.MinvCpus != nil {
			minv = *cr.MinvCpus
		}
		if minv < 0 || maxv < minv {
			return clientError("computeResources.minvCpus (%d) must be between 0 and maxvCpus (%d)", minv, maxv)
		}
		if cr.DesiredvCpus != nil && (*cr.DesiredvCpus < minv || *cr.DesiredvCpus > maxv) {
			return clientError("computeResources.desiredvCpus (%d) must be between minvCpus (%d) and maxvCpus (%d)", *cr.DesiredvCpus, minv, maxv)
		}
		for _, e := range cr.Ec2Configuration {
			if e.ImageType == "" {
				return clientError("ec2Configuration.imageType must be specified")
			}
		}
	}
	return nil
}

// settleCE ends a CREATING, UPDATING or DELETING compute environment whose
// time has come. A managed EC2 environment whose instance profile IAM does
// not show (it does not exist, or has not propagated yet) goes INVALID with
// the reason Batch gives when EC2 refuses the profile.
func (s *Service) settleCE(ce *computeEnv, now time.Time) {
	switch ce.d.Status {
	case statusCreating, statusUpdating:
		if now.Before(ce.until) {
			return
		}
		cr := ce.d.ComputeResources
		if ce.managed() && cr != nil && isEC2(cr.Type) && s.cfg.Profiles != nil && !s.cfg.Profiles.InstanceProfileVisible(cr.InstanceRole) {
			ce.d.Status = statusInvalid
			ce.d.StatusReason = "CLIENT_ERROR - Invalid IamInstanceProfile: " + cr.InstanceRole
			return
		}
		ce.d.Status = statusValid
		ce.d.StatusReason = "ComputeEnvironment Healthy"
	case statusDeleting:
		if !now.Before(ce.until) {
			delete(s.ces, ce.d.ComputeEnvironmentName)
		}
	}
}

type describeComputeEnvironmentsInput struct {
	ComputeEnvironments []string `json:"computeEnvironments"`
	MaxResults          int32    `json:"maxResults"`
	NextToken           string   `json:"nextToken"`
}

func (s *Service) describeComputeEnvironments(in *describeComputeEnvironmentsInput) (any, error) {
	if len(in.ComputeEnvironments) > 100 {
		return nil, clientError("computeEnvironments can list at most 100 compute environments")
	}
	var all []computeEnvironmentDetail
	for _, ce := range sortedByName(s.ces, func(ce *computeEnv) string { return ce.d.ComputeEnvironmentName }) {
		if len(in.ComputeEnvironments) > 0 && !slices.Contains(in.ComputeEnvironments, ce.d.ComputeEnvironmentName) && !slices.Contains(in.ComputeEnvironments, ce.d.ComputeEnvironmentArn) {
			continue
		}
		all = append(all, ce.d)
	}
	page, next, err := paginate(all, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return struct {
		ComputeEnvironments []computeEnvironmentDetail `json:"computeEnvironments"`
		NextToken           string                     `json:"nextToken,omitempty"`
	}{page, next}, nil
}

type updateComputeEnvironmentInput struct {
	ComputeEnvironment string            `json:"computeEnvironment"`
	State              string            `json:"state"`
	UnmanagedvCpus     *int32            `json:"unmanagedvCpus"`
	ComputeResources   *computeResources `json:"computeResources"`
	ServiceRole        string            `json:"serviceRole"`
}

func (s *Service) updateComputeEnvironment(in *updateComputeEnvironmentInput) (any, error) {
	if in.State != "" && !validState(in.State) {
		return nil, clientError("state must be ENABLED or DISABLED")
	}
	ce := s.findCE(in.ComputeEnvironment)
	if ce == nil || ce.d.Status == statusDeleting {
		return nil, clientError("ComputeEnvironment %s does not exist", in.ComputeEnvironment)
	}
	if ce.d.Status != statusValid && ce.d.Status != statusInvalid {
		return nil, clientError("Cannot update compute environment %s while it is %s", ce.d.ComputeEnvironmentName, ce.d.Status)
	}
	if in.ComputeResources != nil {
		if !ce.managed() {
			return nil, clientError("computeResources can't be updated for an UNMANAGED compute environment")
		}
		// Only what the caller sends changes, as in AWS.
		merged := *ce.d.ComputeResources
		u := in.ComputeResources
		if u.MinvCpus != nil {
			merged.MinvCpus = u.MinvCpus
		}
		if u.MaxvCpus != nil {
			merged.MaxvCpus = u.MaxvCpus
		}
		if u.DesiredvCpus != nil {
			merged.DesiredvCpus = u.DesiredvCpus
		}
		if u.Subnets != nil {
			merged.Subnets = u.Subnets
		}
		if u.SecurityGroupIDs != nil {
			merged.SecurityGroupIDs = u.SecurityGroupIDs
		}
		if u.InstanceRole != "" {
			merged.InstanceRole = u.InstanceRole
		}
		if u.InstanceTypes != nil {
			merged.InstanceTypes = u.InstanceTypes
		}
		if u.LaunchTemplate != nil {
			merged.LaunchTemplate = u.LaunchTemplate
		}
		if u.Ec2Configuration != nil {
			merged.Ec2Configuration = u.Ec2Configuration
		}
		if err := validateComputeResources(&merged); err != nil {
			return nil, err
		}
		ce.d.ComputeResources = &merged
	}
	if in.UnmanagedvCpus != nil {
		ce.d.UnmanagedvCpus = in.UnmanagedvCpus
	}
	if in.ServiceRole != "" {
		ce.d.ServiceRole = in.ServiceRole
	}
	if in.State != "" {
		ce.d.State = in.State
	}
	ce.d.Status = statusUpdating
	ce.d.StatusReason = "Updating compute environment"
	ce.until = s.env.Clock.Now().Add(s.cfg.ResourceDelay)
	return map[string]string{
		"computeEnvironmentName": ce.d.ComputeEnvironmentName,
		"computeEnvironmentArn":  ce.d.ComputeEnvironmentArn,
	}, nil
}

type deleteComputeEnvironmentInput struct {
	ComputeEnvironment string `json:"computeEnvironment"`
}

func (s *Service) deleteComputeEnvironment(in *deleteComputeEnvironmentInput) (any, error) {
	ce := s.findCE(in.ComputeEnvironment)
	if ce == nil {
		return nil, clientError("ComputeEnvironment %s does not exist", in.ComputeEnvironment)
	}
	if ce.d.Status == statusDeleting {
		return struct{}{}, nil
	}
	if ce.d.State != stateDisabled {
		return nil, clientError("Cannot delete, compute environment %s must be DISABLED first", ce.d.ComputeEnvironmentName)
	}
	if ce.d.Status != statusValid && ce.d.Status != statusInvalid {
		return nil, clientError("Cannot delete compute environment %s while it is %s", ce.d.ComputeEnvironmentName, ce.d.Status)
	}
	for _, q := range s.queues {
		for _, o := range q.d.ComputeEnvironmentOrder {
			if o.ComputeEnvironment == ce.d.ComputeEnvironmentArn {
				return nil, clientError("Cannot delete, found existing JobQueue relationship")
			}
		}
	}
	ce.d.Status = statusDeleting
	ce.d.StatusReason = "Deleting compute environment"
	ce.until = s.env.Clock.Now().Add(s.cfg.ResourceDelay)
	return struct{}{}, nil
}

func validateTags(tags map[string]string) error {
	if len(tags) > 50 {
		return clientError("A resource can have at most 50 tags")
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return clientError("Tag keys must be 1 to 128 characters and values at most 256 characters")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return clientError("Tag keys can't start with aws:")
		}
	}
	return nil
}

// sortedByName lists a map's values in name order, so pages are stable.
func sortedByName[T any](m map[string]T, name func(T) string) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(name(a), name(b)) })
	return out
}

// paginate cuts one page out of all; the token is the offset of the next
// page.
func paginate[T any](all []T, maxResults int32, token string, limit int32) ([]T, string, error) {
	start := 0
	if token != "" {
		if _, err := fmt.Sscanf(token, "%d", &start); err != nil || start < 0 || start > len(all) {
			return nil, "", clientError("Invalid nextToken")
		}
	}
	n := int(limit)
	if maxResults > 0 && maxResults < limit {
		n = int(maxResults)
	} else if maxResults < 0 || maxResults > limit {
		return nil, "", clientError("maxResults must be between 1 and %d", limit)
	}
	end := min(start+n, len(all))
	next := ""
	if end < len(all) {
		next = fmt.Sprint(end)
	}
	page := all[start:end]
	if page == nil {
		// Batch lists an empty page as [], never null.
		page = []T{}
	}
	return page, next, nil
}
