package logs

import (
	"encoding/json"
	"errors"
	"path"
	"slices"
	"sort"
	"time"
)

// Resource policies' documented limits.
const (
	maxPolicies        = 10
	maxPolicyDocLength = 5120
)

type resourcePolicy struct {
	PolicyName      string `json:"policyName"`
	PolicyDocument  string `json:"policyDocument"`
	LastUpdatedTime int64  `json:"lastUpdatedTime"`
}

type putResourcePolicyInput struct {
	PolicyName     string `json:"policyName"`
	PolicyDocument string `json:"policyDocument"`
}

func (s *Service) putResourcePolicy(in putResourcePolicyInput) (any, error) {
	if in.PolicyName == "" || in.PolicyDocument == "" {
		return nil, invalidParameter("policyName and policyDocument are required.")
	}
	if len(in.PolicyDocument) > maxPolicyDocLength {
		return nil, invalidParameter("1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyDocLength)
	}
	if _, err := parsePolicy(in.PolicyDocument); err != nil {
		return nil, awsMalformed(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[in.PolicyName]; !ok && len(s.policies) >= maxPolicies {
		return nil, limitExceeded("Resource limit exceeded.")
	}
	p := &resourcePolicy{PolicyName: in.PolicyName, PolicyDocument: in.PolicyDocument, LastUpdatedTime: s.env.Clock.Now().UnixMilli()}
	s.policies[in.PolicyName] = p
	return struct {
		ResourcePolicy *resourcePolicy `json:"resourcePolicy"`
	}{p}, nil
}

type describeResourcePoliciesInput struct {
	Limit *int `json:"limit"`
}

func (s *Service) describeResourcePolicies(in describeResourcePoliciesInput) (any, error) {
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 50) {
		return nil, invalidParameter("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 50", *in.Limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := struct {
		ResourcePolicies []resourcePolicy `json:"resourcePolicies"`
	}{ResourcePolicies: []resourcePolicy{}}
	for _, p := range s.policies {
		out.ResourcePolicies = append(out.ResourcePolicies, *p)
	}
	sort.Slice(out.ResourcePolicies, func(i, j int) bool { return out.ResourcePolicies[i].PolicyName < out.ResourcePolicies[j].PolicyName })
	return out, nil
}

type deleteResourcePolicyInput struct {
	PolicyName string `json:"policyName"`
}

func (s *Service) deleteResourcePolicy(in deleteResourcePolicyInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[in.PolicyName]; !ok {
		return nil, notFound("Policy with name [%s] does not exist", in.PolicyName)
	}
	delete(s.policies, in.PolicyName)
	return nil, nil
}

// policy is the part of an IAM policy document a resource policy check reads.
type policy struct {
	Statement []statement
}

type statement struct {
	Effect    string
	Principal struct {
		Service stringList
	}
	Action   stringList
	Resource stringList
}

// stringList is IAM's string-or-list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("expected a string or a list of strings")
	}
	*l = many
	return nil
}

func parsePolicy(doc string) (*policy, error) {
	var p policy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, err
	}
	if len(p.Statement) == 0 {
		return nil, errors.New("the policy has no statement")
	}
	return &p, nil
}

func awsMalformed(err error) error {
	return invalidParameter("Invalid policy document: %v", err)
}

// allows says whether some resource policy lets service call each of the
// actions on resource. Deny statements win, as in IAM. The caller holds
// s.mu.
func (s *Service) allows(service, resource string, actions ...string) bool {
	allowed := map[string]bool{}
	for _, rp := range s.policies {
		p, err := parsePolicy(rp.PolicyDocument)
		if err != nil {
			continue
		}
		for _, st := range p.Statement {
			if !slices.Contains(st.Principal.Service, service) || !anyMatch(st.Resource, resource) {
				continue
			}
			for _, a := range actions {
				if anyMatch(st.Action, a) {
					if st.Effect == "Deny" {
						return false
					}
					if st.Effect == "Allow" {
						allowed[a] = true
					}
				}
			}
		}
	}
	return len(allowed) == len(actions)
}

// anyMatch matches IAM's wildcards, * and ?, which path.Match also
// understands for strings without slashes; ARNs of log groups have them, so
// the slashes are swapped out first.
func anyMatch(patterns []string, s string) bool {
	const slash = "\x00"
	swap := func(v string) string {
		out := []byte(v)
		for i := range out {
			if out[i] == '/' {
				out[i] = slash[0]
			}
		}
		return string(out)
	}
	for _, p := range patterns {
		if ok, _ := path.Match(swap(p), swap(s)); ok {
			return true
		}
	}
	return false
}

// DeliverAs writes message as one event in its own stream of group, on
// behalf of an AWS service (events.amazonaws.com), as a service's delivery
// to a log group does: it succeeds only when the group exists and a
// resource policy lets the service create streams and put events there.
func (s *Service) DeliverAs(service, group, stream string, at time.Time, message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[group]
	if !ok {
		return notFound("The specified log group does not exist.")
	}
	arn := s.groupARN(group) + ":log-stream:" + stream
	if !s.allows(service, arn, "logs:CreateLogStream", "logs:PutLogEvents") {
		return accessDenied("%s is not authorized to write to %s: no resource policy allows it", service, group)
	}
	st, ok := g.streams[stream]
	if !ok {
		st = &logStream{name: stream, created: s.env.Clock.Now()}
		g.streams[stream] = st
	}
	s.appendEvent(st, at.UnixMilli(), message, s.env.Clock.Now().UnixMilli())
	return nil
}
