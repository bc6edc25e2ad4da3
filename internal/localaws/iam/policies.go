package iam

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// managedPolicy is an AWS managed policy the stand-in knows, so it can be
// attached and looked up. Only the ones a batchxray stack and its users are
// likely to attach are here; any other ARN is NoSuchEntity, as a policy that
// does not exist is.
type managedPolicy struct {
	name, path, id, version, description string
	created, updated                     time.Time
}

func (m managedPolicy) arn() string { return "arn:aws:iam::aws:policy" + m.path + m.name }

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The IDs are the stand-in's own (AWS's are not part of any contract), in
// IAM's ANPA form.
var managedPolicies = sync.OnceValue(func() []managedPolicy {
	return []managedPolicy{
		{name: "AmazonEC2ContainerServiceforEC2Role", path: "/service-role/", id: "ANPAJLYJCVHC7TQHCSQDS", version: "v8",
			description: "Default policy for the Amazon EC2 Role for Amazon EC2 Container Service.",
			created:     date("2015-03-19"), updated: date("2025-07-29")},
		{name: "AWSXRayDaemonWriteAccess", path: "/", id: "ANPAIOE47TSUSLMMRDUVG", version: "v1",
			description: "Allow the AWS X-Ray Daemon to relay raw trace segments data to the service's API and retrieve sampling data (rules, targets, etc.) to be used by the X-Ray SDK.",
			created:     date("2018-08-28"), updated: date("2018-08-28")},
		{name: "AmazonECSTaskExecutionRolePolicy", path: "/service-role/", id: "ANPAJG4T4G4PV56DE72PY", version: "v1",
			description: "Provides access to other AWS service resources that are required to run Amazon ECS tasks",
			created:     date("2017-11-16"), updated: date("2017-11-16")},
		{name: "AmazonS3ReadOnlyAccess", path: "/", id: "ANPAIZTJ4DXE7G6AGAE6M", version: "v3",
			description: "Provides read only access to all buckets via the AWS Management Console.",
			created:     date("2015-02-06"), updated: date("2023-08-10")},
	}
})

func findManaged(arn string) (managedPolicy, bool) {
	for _, m := range managedPolicies() {
		if m.arn() == arn {
			return m, true
		}
	}
	return managedPolicy{}, false
}

// checkPolicyARN refuses what is not a policy ARN at all (InvalidInput)
// before a lookup can say it does not exist.
func checkPolicyARN(arn string) error {
	if arn == "" {
		return validationError("1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "policy/") {
		return invalidInput("ARN %s is not valid.", arn)
	}
	return nil
}

type (
	xmlPolicy struct {
		PolicyName                    string
		PolicyId                      string
		Arn                           string
		Path                          string
		DefaultVersionId              string
		AttachmentCount               int
		PermissionsBoundaryUsageCount int
		IsAttachable                  bool
		Description                   string
		CreateDate                    string
		UpdateDate                    string
	}
	getPolicyResult    struct{ Policy xmlPolicy }
	xmlAttachedPolicy  struct{ PolicyName, PolicyArn string }
	listAttachedResult struct {
		AttachedPolicies []xmlAttachedPolicy `xml:"AttachedPolicies>member"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}
	getRolePolicyResult    struct{ RoleName, PolicyName, PolicyDocument string }
	listRolePoliciesResult struct {
		PolicyNames []string `xml:"PolicyNames>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
)

func (s *Service) getPolicy(p params) (any, error) {
	arn := p.get("PolicyArn")
	if err := checkPolicyARN(arn); err != nil {
		return nil, err
	}
	m, ok := findManaged(arn)
	if !ok {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	n := 0
	for _, r := range s.roles {
		if slices.Contains(r.attached, arn) {
			n++
		}
	}
	return getPolicyResult{xmlPolicy{
		PolicyName: m.name, PolicyId: m.id, Arn: arn, Path: m.path, DefaultVersionId: m.version,
		AttachmentCount: n, IsAttachable: true, Description: m.description,
		CreateDate: isoTime(m.created), UpdateDate: isoTime(m.updated),
	}}, nil
}

func (s *Service) attachRolePolicy(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	arn := p.get("PolicyArn")
	if err := checkPolicyARN(arn); err != nil {
		return nil, err
	}
	if _, ok := findManaged(arn); !ok {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	if slices.Contains(r.attached, arn) {
		return nil, nil // attaching twice changes nothing, as in IAM
	}
	r.attached = append(r.attached, arn)
	return nil, nil
}

func (s *Service) detachRolePolicy(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	arn := p.get("PolicyArn")
	if err := checkPolicyARN(arn); err != nil {
		return nil, err
	}
	i := slices.Index(r.attached, arn)
	if i < 0 {
		return nil, noSuchEntity("Policy %s was not found.", arn)
	}
	r.attached = slices.Delete(r.attached, i, i+1)
	return nil, nil
}

func (s *Service) listAttachedRolePolicies(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	prefix := p.get("PathPrefix")
	if err := checkPathPrefix(prefix); err != nil {
		return nil, err
	}
	var matched []managedPolicy
	for _, arn := range r.attached {
		if m, ok := findManaged(arn); ok && strings.HasPrefix(m.path, prefix) {
			matched = append(matched, m)
		}
	}
	slices.SortFunc(matched, func(a, b managedPolicy) int { return strings.Compare(a.arn(), b.arn()) })
	pg, truncated, marker, err := page(p, matched, managedPolicy.arn)
	if err != nil {
		return nil, err
	}
	res := listAttachedResult{IsTruncated: truncated, Marker: marker}
	for _, m := range pg {
		res.AttachedPolicies = append(res.AttachedPolicies, xmlAttachedPolicy{m.name, m.arn()})
	}
	return res, nil
}

func (s *Service) putRolePolicy(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	name := p.get("PolicyName")
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return nil, err
	}
	doc := p.get("PolicyDocument")
	if err := checkPolicyDocument(doc, identityPolicy); err != nil {
		return nil, err
	}
	// The quota is on all of a role's inline policies together.
	total := policyChars(doc)
	for n, d := range r.inline {
		if n != name {
			total += policyChars(d)
		}
	}
	if total > maxInlinePolicyChars {
		return nil, limitExceeded("Maximum policy size of %d bytes exceeded for role %s", maxInlinePolicyChars, r.name)
	}
	r.inline[name] = doc
	return nil, nil
}

func (s *Service) inlinePolicy(p params) (*role, string, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, "", err
	}
	name := p.get("PolicyName")
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return nil, "", err
	}
	if _, ok := r.inline[name]; !ok {
		return nil, "", noSuchEntity("The role policy with name %s cannot be found.", name)
	}
	return r, name, nil
}

func (s *Service) getRolePolicy(p params) (any, error) {
	r, name, err := s.inlinePolicy(p)
	if err != nil {
		return nil, err
	}
	return getRolePolicyResult{RoleName: r.name, PolicyName: name, PolicyDocument: encodeDocument(r.inline[name])}, nil
}

func (s *Service) deleteRolePolicy(p params) (any, error) {
	r, name, err := s.inlinePolicy(p)
	if err != nil {
		return nil, err
	}
	delete(r.inline, name)
	return nil, nil
}

func (s *Service) listRolePolicies(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(r.inline))
	for n := range r.inline {
		names = append(names, n)
	}
	slices.Sort(names)
	pg, truncated, marker, err := page(p, names, func(n string) string { return n })
	if err != nil {
		return nil, err
	}
	return listRolePoliciesResult{PolicyNames: pg, IsTruncated: truncated, Marker: marker}, nil
}
