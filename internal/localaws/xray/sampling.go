package xray

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Limits X-Ray documents for sampling rules and tags.
const (
	maxRules       = 25 // custom rules; the Default rule does not count
	maxTags        = 50
	defaultRule    = "Default"
	targetInterval = 10 // seconds between a client's GetSamplingTargets calls
)

func secs(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

type samplingRule struct {
	RuleName      string
	RuleARN       string
	ResourceARN   string
	Priority      int32
	FixedRate     float64
	ReservoirSize int32
	ServiceName   string
	ServiceType   string
	Host          string
	HTTPMethod    string
	URLPath       string
	Version       int32
	Attributes    map[string]string `json:",omitempty"`
}

type rule struct {
	SamplingRule samplingRule
	CreatedAt    float64
	ModifiedAt   float64
}

// ruleFields is a sampling rule as a request gives it: CreateSamplingRule's
// SamplingRule or UpdateSamplingRule's SamplingRuleUpdate.
type ruleFields struct {
	RuleName, RuleARN, ResourceARN   *string
	ServiceName, ServiceType, Host   *string
	HTTPMethod, URLPath              *string
	Priority, ReservoirSize, Version *int32
	FixedRate                        *float64
	Attributes                       map[string]string
}

type tag struct {
	Key   string
	Value string
}

func (s *Service) ruleARN(name string) string {
	return s.env.ARN("xray", s.env.Region, "sampling-rule/"+name)
}

func (s *Service) addDefaultRule() {
	now := secs(s.env.Clock.Now())
	s.rules[defaultRule] = &rule{
		SamplingRule: samplingRule{
			RuleName: defaultRule, RuleARN: s.ruleARN(defaultRule), ResourceARN: "*",
			Priority: 10000, FixedRate: 0.05, ReservoirSize: 1,
			ServiceName: "*", ServiceType: "*", Host: "*", HTTPMethod: "*", URLPath: "*", Version: 1,
		},
		CreatedAt: now, ModifiedAt: now,
	}
	s.ruleOrder = append(s.ruleOrder, defaultRule)
	s.lastRuleMod = now
}

// checkRule keeps X-Ray's bounds on the fields a request sets.
func checkRule(f *ruleFields) error {
	str := func(name string, v *string, max int) error {
		if v != nil && len(*v) > max {
			return invalidRequest("%s is longer than %d characters", name, max)
		}
		return nil
	}
	for _, c := range []struct {
		name string
		v    *string
		max  int
	}{{"ResourceARN", f.ResourceARN, 500}, {"ServiceName", f.ServiceName, 64}, {"ServiceType", f.ServiceType, 64},
		{"Host", f.Host, 64}, {"HTTPMethod", f.HTTPMethod, 10}, {"URLPath", f.URLPath, 128}} {
		if err := str(c.name, c.v, c.max); err != nil {
			return err
		}
	}
	switch {
	case f.Priority != nil && (*f.Priority < 1 || *f.Priority > 9999):
		return invalidRequest("Priority %d is not between 1 and 9999", *f.Priority)
	case f.FixedRate != nil && (*f.FixedRate < 0 || *f.FixedRate > 1):
		return invalidRequest("FixedRate %v is not between 0 and 1", *f.FixedRate)
	case f.ReservoirSize != nil && *f.ReservoirSize < 0:
		return invalidRequest("ReservoirSize %d is negative", *f.ReservoirSize)
	case len(f.Attributes) > 5:
		return invalidRequest("a sampling rule has at most 5 Attributes")
	}
	return nil
}

func checkTags(tags []tag) error {
	if len(tags) > maxTags {
		return awsproto.Errorf(http.StatusBadRequest, "TooManyTagsException", "a resource has at most %d tags", maxTags)
	}
	for _, t := range tags {
		switch {
		case len(t.Key) < 1 || len(t.Key) > 128:
			return invalidRequest("tag key %q must be 1 to 128 characters", t.Key)
		case len(t.Value) > 256:
			return invalidRequest("tag value for %q is longer than 256 characters", t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return invalidRequest("tag key %q uses the reserved prefix aws:", t.Key)
		}
	}
	return nil
}

func (s *Service) createSamplingRule(r *http.Request) (any, error) {
	var in struct {
		SamplingRule *ruleFields
		Tags         []tag
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	f := in.SamplingRule
	if f == nil {
		return nil, invalidRequest("SamplingRule is required")
	}
	required := map[string]bool{
		"RuleName": f.RuleName != nil, "ResourceARN": f.ResourceARN != nil, "Priority": f.Priority != nil,
		"FixedRate": f.FixedRate != nil, "ReservoirSize": f.ReservoirSize != nil, "ServiceName": f.ServiceName != nil,
		"ServiceType": f.ServiceType != nil, "Host": f.Host != nil, "HTTPMethod": f.HTTPMethod != nil,
		"URLPath": f.URLPath != nil, "Version": f.Version != nil,
	}
	for _, name := range []string{"RuleName", "ResourceARN", "Priority", "FixedRate", "ReservoirSize", "ServiceName", "ServiceType", "Host", "HTTPMethod", "URLPath", "Version"} {
		if !required[name] {
			return nil, invalidRequest("SamplingRule.%s is required", name)
		}
	}
	name := *f.RuleName
	switch {
	case len(name) < 1 || len(name) > 32:
		return nil, invalidRequest("RuleName %q must be 1 to 32 characters", name)
	case *f.Version != 1:
		return nil, invalidRequest("Version %d is not 1, the only version of sampling rules", *f.Version)
	}
	if err := checkRule(f); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rules[name]; ok {
		return nil, invalidRequest("A sampling rule named %q already exists", name)
	}
	if len(s.rules)-1 >= maxRules {
		return nil, awsproto.Errorf(http.StatusBadRequest, "RuleLimitExceededException",
			"You have reached the maximum number of sampling rules (%d)", maxRules)
	}
	now := secs(s.env.Clock.Now())
	rl := &rule{
		SamplingRule: samplingRule{
			RuleName: name, RuleARN: s.ruleARN(name), ResourceARN: *f.ResourceARN, Priority: *f.Priority,
			FixedRate: *f.FixedRate, ReservoirSize: *f.ReservoirSize, ServiceName: *f.ServiceName,
			ServiceType: *f.ServiceType, Host: *f.Host, HTTPMethod: *f.HTTPMethod, URLPath: *f.URLPath,
			Version: 1, Attributes: f.Attributes,
		},
		CreatedAt: now, ModifiedAt: now,
	}
	s.rules[name] = rl
	s.ruleOrder = append(s.ruleOrder, name)
	s.lastRuleMod = now
	if len(in.Tags) > 0 {
		s.tags[rl.SamplingRule.RuleARN] = map[string]string{}
		for _, t := range in.Tags {
			s.tags[rl.SamplingRule.RuleARN][t.Key] = t.Value
		}
	}
	return struct{ SamplingRuleRecord rule }{*rl}, nil
}

// findRule finds a rule by name or ARN; the caller holds the lock.
func (s *Service) findRule(name, arn *string) (*rule, error) {
	switch {
	case name == nil && arn == nil:
		return nil, invalidRequest("RuleName or RuleARN is required")
	case name != nil && arn != nil && s.ruleARN(*name) != *arn:
		return nil, invalidRequest("RuleName %q and RuleARN %q name different rules", *name, *arn)
	}
	key := ""
	if name != nil {
		key = *name
	} else if n, ok := strings.CutPrefix(*arn, s.ruleARN("")); ok {
		key = n
	}
	rl := s.rules[key]
	if rl == nil {
		return nil, invalidRequest("Sampling rule does not exist")
	}
	return rl, nil
}

func (s *Service) updateSamplingRule(r *http.Request) (any, error) {
	var in struct{ SamplingRuleUpdate *ruleFields }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	f := in.SamplingRuleUpdate
	if f == nil {
		return nil, invalidRequest("SamplingRuleUpdate is required")
	}
	if err := checkRule(f); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rl, err := s.findRule(f.RuleName, f.RuleARN)
	if err != nil {
		return nil, err
	}
	sr := &rl.SamplingRule
	if sr.RuleName == defaultRule && (f.ResourceARN != nil || f.Priority != nil || f.ServiceName != nil ||
		f.ServiceType != nil || f.Host != nil || f.HTTPMethod != nil || f.URLPath != nil || f.Attributes != nil) {
		return nil, invalidRequest("The Default rule's FixedRate and ReservoirSize are all that can change")
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&sr.ResourceARN, f.ResourceARN)
	set(&sr.ServiceName, f.ServiceName)
	set(&sr.ServiceType, f.ServiceType)
	set(&sr.Host, f.Host)
	set(&sr.HTTPMethod, f.HTTPMethod)
	set(&sr.URLPath, f.URLPath)
	if f.Priority != nil {
		sr.Priority = *f.Priority
	}
	if f.FixedRate != nil {
		sr.FixedRate = *f.FixedRate
	}
	if f.ReservoirSize != nil {
		sr.ReservoirSize = *f.ReservoirSize
	}
	if f.Attributes != nil {
		sr.Attributes = f.Attributes
	}
	rl.ModifiedAt = secs(s.env.Clock.Now())
	s.lastRuleMod = rl.ModifiedAt
	return struct{ SamplingRuleRecord rule }{*rl}, nil
}

func (s *Service) deleteSamplingRule(r *http.Request) (any, error) {
	var in struct{ RuleName, RuleARN *string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rl, err := s.findRule(in.RuleName, in.RuleARN)
	if err != nil {
		return nil, err
	}
	if rl.SamplingRule.RuleName == defaultRule {
		return nil, invalidRequest("The Default sampling rule cannot be deleted")
	}
	delete(s.rules, rl.SamplingRule.RuleName)
	delete(s.tags, rl.SamplingRule.RuleARN)
	s.ruleOrder = slices.DeleteFunc(s.ruleOrder, func(n string) bool { return n == rl.SamplingRule.RuleName })
	s.lastRuleMod = secs(s.env.Clock.Now())
	return struct{ SamplingRuleRecord rule }{*rl}, nil
}

func (s *Service) getSamplingRules(r *http.Request) (any, error) {
	var in struct{ NextToken *string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	records := []rule{}
	for _, name := range s.ruleOrder {
		records = append(records, *s.rules[name])
	}
	return struct{ SamplingRuleRecords []rule }{records}, nil
}

type samplingTarget struct {
	RuleName          string
	FixedRate         float64
	ReservoirQuota    int32
	ReservoirQuotaTTL float64
	Interval          int32
}

type unprocessedStatistics struct {
	RuleName  string
	ErrorCode string
	Message   string
}

// getSamplingTargets gives each reporting client the rule's fixed rate and
// the whole reservoir as its quota: the stand-in has one client per rule in
// practice, so there is nothing to share out.
func (s *Service) getSamplingTargets(r *http.Request) (any, error) {
	var in struct {
		SamplingStatisticsDocuments []struct {
			RuleName     string
			ClientID     string
			RequestCount int64
			SampledCount int64
			BorrowCount  int64
			Timestamp    float64
		}
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.SamplingStatisticsDocuments == nil {
		return nil, invalidRequest("SamplingStatisticsDocuments is required")
	}
	if len(in.SamplingStatisticsDocuments) > 25 {
		return nil, invalidRequest("SamplingStatisticsDocuments holds at most 25 documents")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.env.Clock.Now()
	out := struct {
		SamplingTargetDocuments []samplingTarget
		LastRuleModification    float64
		UnprocessedStatistics   []unprocessedStatistics
	}{SamplingTargetDocuments: []samplingTarget{}, LastRuleModification: s.lastRuleMod, UnprocessedStatistics: []unprocessedStatistics{}}
	for _, d := range in.SamplingStatisticsDocuments {
		rl := s.rules[d.RuleName]
		if rl == nil {
			out.UnprocessedStatistics = append(out.UnprocessedStatistics, unprocessedStatistics{
				RuleName: d.RuleName, ErrorCode: "400", Message: "Unknown rule"})
			continue
		}
		out.SamplingTargetDocuments = append(out.SamplingTargetDocuments, samplingTarget{
			RuleName: d.RuleName, FixedRate: rl.SamplingRule.FixedRate, ReservoirQuota: rl.SamplingRule.ReservoirSize,
			ReservoirQuotaTTL: secs(now.Add(targetInterval * time.Second)), Interval: targetInterval,
		})
	}
	return out, nil
}

// taggable says whether an ARN names a resource that exists; the caller
// holds the lock.
func (s *Service) taggable(arn string) error {
	for _, rl := range s.rules {
		if rl.SamplingRule.RuleARN == arn {
			return nil
		}
	}
	return awsproto.Errorf(http.StatusNotFound, "ResourceNotFoundException", "Resource %s not found", arn)
}

func (s *Service) tagResource(r *http.Request) (any, error) {
	var in struct {
		ResourceARN string
		Tags        []tag
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.taggable(in.ResourceARN); err != nil {
		return nil, err
	}
	m := s.tags[in.ResourceARN]
	if m == nil {
		m = map[string]string{}
	}
	merged := map[string]string{}
	for k, v := range m {
		merged[k] = v
	}
	for _, t := range in.Tags {
		merged[t.Key] = t.Value
	}
	if len(merged) > maxTags {
		return nil, awsproto.Errorf(http.StatusBadRequest, "TooManyTagsException", "a resource has at most %d tags", maxTags)
	}
	s.tags[in.ResourceARN] = merged
	return struct{}{}, nil
}

func (s *Service) untagResource(r *http.Request) (any, error) {
	var in struct {
		ResourceARN string
		TagKeys     []string
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.taggable(in.ResourceARN); err != nil {
		return nil, err
	}
	for _, k := range in.TagKeys {
		delete(s.tags[in.ResourceARN], k)
	}
	return struct{}{}, nil
}

func (s *Service) listTagsForResource(r *http.Request) (any, error) {
	var in struct{ ResourceARN string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.taggable(in.ResourceARN); err != nil {
		return nil, err
	}
	tags := []tag{}
	for k, v := range s.tags[in.ResourceARN] {
		tags = append(tags, tag{k, v})
	}
	slices.SortFunc(tags, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
	return struct{ Tags []tag }{tags}, nil
}
