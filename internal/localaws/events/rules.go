package events

import (
	"maps"
	"slices"
	"strings"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// EventBridge's documented limits and name syntax.
const (
	maxTargetsPerRule = 5
	maxTargetsPerCall = 10
	maxNameLength     = 64
	maxTags           = 50
)

var nameRE = awsproto.Pattern(`^[.\-_A-Za-z0-9]+$`)

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type putRuleInput struct {
	Name               string
	EventPattern       string
	ScheduleExpression string
	State              string
	Description        string
	RoleArn            string
	Tags               []tag
	EventBusName       string
}

func validName(field, name string) error {
	if len(name) < 1 || len(name) > maxNameLength || !nameRE().MatchString(name) {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length between 1 and %d", name, field, maxNameLength)
	}
	return nil
}

// bus checks the event bus named: only the default one exists here.
func (s *Service) bus(name string) error {
	if name == "" || name == "default" || name == s.env.ARN("events", s.env.Region, "event-bus/default") {
		return nil
	}
	return notFound("Event bus %s does not exist.", name)
}

func (s *Service) putRule(in putRuleInput) (any, error) {
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	if err := s.bus(in.EventBusName); err != nil {
		return nil, err
	}
	if in.EventPattern == "" && in.ScheduleExpression == "" {
		return nil, validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	switch in.State {
	case "":
		in.State = "ENABLED"
	case "ENABLED", "DISABLED":
	default:
		return nil, validation("1 validation error detected: Value '%s' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", in.State)
	}
	var match func(map[string]any) bool
	if in.EventPattern != "" {
		var err error
		if match, err = compilePattern(in.EventPattern); err != nil {
			return nil, err
		}
	}
	if len(in.Tags) > maxTags {
		return nil, limitExceeded("Tags limit exceeded.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rules[in.Name]
	if !ok {
		r = &rule{name: in.Name, arn: s.env.ARN("events", s.env.Region, "rule/"+in.Name), tags: map[string]string{}}
		// Tags are applied only when the rule is created, as PutRule does.
		for _, t := range in.Tags {
			r.tags[t.Key] = t.Value
		}
		s.rules[in.Name] = r
	}
	r.pattern, r.match, r.schedule, r.state, r.description, r.roleARN = in.EventPattern, match, in.ScheduleExpression, in.State, in.Description, in.RoleArn
	return struct{ RuleArn string }{r.arn}, nil
}

type nameInput struct {
	Name         string
	EventBusName string
	Force        bool
}

// find is the rule named, or EventBridge's not-found error. The caller
// holds s.mu.
func (s *Service) find(name, bus string) (*rule, error) {
	if err := s.bus(bus); err != nil {
		return nil, err
	}
	r, ok := s.rules[name]
	if !ok {
		return nil, notFound("Rule %s does not exist on EventBus default.", name)
	}
	return r, nil
}

func (s *Service) describeRule(in nameInput) (any, error) {
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(in.Name, in.EventBusName)
	if err != nil {
		return nil, err
	}
	return struct {
		Name, Arn, State, EventBusName, CreatedBy     string
		EventPattern, ScheduleExpression, Description string `json:",omitempty"`
		RoleArn                                       string `json:",omitempty"`
	}{r.name, r.arn, r.state, "default", s.env.Account, r.pattern, r.schedule, r.description, r.roleARN}, nil
}

func (s *Service) deleteRule(in nameInput) (any, error) {
	if err := validName("name", in.Name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.bus(in.EventBusName); err != nil {
		return nil, err
	}
	r, ok := s.rules[in.Name]
	if !ok {
		// Deleting a rule that is not there succeeds.
		return nil, nil
	}
	if len(r.targets) > 0 {
		return nil, validation("Rule can't be deleted since it has targets.")
	}
	delete(s.rules, in.Name)
	return nil, nil
}

type target struct {
	Id      string
	Arn     string
	RoleArn string `json:",omitempty"`
	Input   string `json:",omitempty"`
}

type putTargetsInput struct {
	Rule         string
	EventBusName string
	Targets      []target
}

type failedEntry struct {
	TargetId, ErrorCode, ErrorMessage string
}

type targetsOutput struct {
	FailedEntryCount int
	FailedEntries    []failedEntry
}

func (s *Service) putTargets(in putTargetsInput) (any, error) {
	if err := validName("rule", in.Rule); err != nil {
		return nil, err
	}
	if len(in.Targets) < 1 || len(in.Targets) > maxTargetsPerCall {
		return nil, validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and %d", maxTargetsPerCall)
	}
	for _, t := range in.Targets {
		if err := validName("targets.member.id", t.Id); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(t.Arn, "arn:") {
			return nil, validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", t.Arn)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	next := slices.Clone(r.targets)
	for _, t := range in.Targets {
		if i := slices.IndexFunc(next, func(o target) bool { return o.Id == t.Id }); i >= 0 {
			next[i] = t
		} else {
			next = append(next, t)
		}
	}
	if len(next) > maxTargetsPerRule {
		return nil, limitExceeded("The requested resource exceeds the maximum number allowed.")
	}
	r.targets = next
	return targetsOutput{FailedEntries: []failedEntry{}}, nil
}

type removeTargetsInput struct {
	Rule         string
	EventBusName string
	Ids          []string
	Force        bool
}

func (s *Service) removeTargets(in removeTargetsInput) (any, error) {
	if err := validName("rule", in.Rule); err != nil {
		return nil, err
	}
	if len(in.Ids) < 1 || len(in.Ids) > maxTargetsPerCall {
		return nil, validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and %d", maxTargetsPerCall)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	// An ID that is not a target is not an error.
	r.targets = slices.DeleteFunc(r.targets, func(t target) bool { return slices.Contains(in.Ids, t.Id) })
	return targetsOutput{FailedEntries: []failedEntry{}}, nil
}

type listTargetsInput struct {
	Rule         string
	EventBusName string
	Limit        *int
	NextToken    string
}

func (s *Service) listTargetsByRule(in listTargetsInput) (any, error) {
	if err := validName("rule", in.Rule); err != nil {
		return nil, err
	}
	if in.Limit != nil && (*in.Limit < 1 || *in.Limit > 100) {
		return nil, validation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100", *in.Limit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.find(in.Rule, in.EventBusName)
	if err != nil {
		return nil, err
	}
	// A rule has at most five targets: one page always holds them.
	return struct{ Targets []target }{append([]target{}, r.targets...)}, nil
}

type tagsInput struct {
	ResourceARN string
	Tags        []tag
	TagKeys     []string
}

// byARN is the rule an ARN names. The caller holds s.mu.
func (s *Service) byARN(arn string) (*rule, error) {
	name, ok := strings.CutPrefix(arn, s.env.ARN("events", s.env.Region, "rule/"))
	if r, found := s.rules[name]; ok && found {
		return r, nil
	}
	if ok {
		return nil, notFound("Rule %s does not exist on EventBus default.", name)
	}
	return nil, notFound("Resource %s does not exist.", arn)
}

func (s *Service) tagResource(in tagsInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.byARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	next := maps.Clone(r.tags)
	for _, t := range in.Tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return nil, validation("Tag keys must be 1 to 128 characters and values at most 256.")
		}
		next[t.Key] = t.Value
	}
	if len(next) > maxTags {
		return nil, limitExceeded("Tags limit exceeded.")
	}
	r.tags = next
	return struct{}{}, nil
}

func (s *Service) untagResource(in tagsInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.byARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(r.tags, k)
	}
	return struct{}{}, nil
}

func (s *Service) listTagsForResource(in tagsInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.byARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	out := struct{ Tags []tag }{Tags: []tag{}}
	for _, k := range slices.Sorted(maps.Keys(r.tags)) {
		out.Tags = append(out.Tags, tag{k, r.tags[k]})
	}
	return out, nil
}
