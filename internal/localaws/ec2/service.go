package ec2

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's EC2.
type Service struct {
	awsproto.EC2
	env awsproto.Env

	mu        sync.Mutex
	vpc       vpc
	subnets   []subnet
	groups    map[string]*securityGroup
	templates map[string]*launchTemplate
	// tags are kept apart from the resources, keyed by resource ID, as
	// CreateTags and DescribeTags see them.
	tags map[string]map[string]string
}

type handler func(p params) (any, error)

// Config configures the stand-in's EC2.
type Config struct {
	// NoDefaultVPC starts the account without a default VPC, as an account
	// whose default VPC was deleted (or that never had one): no VPC, no
	// subnet, no security group.
	NoDefaultVPC bool
}

// New returns an EC2 with the account's default VPC, its default subnets
// and its default security group, unless cfg says there is none.
func New(env awsproto.Env, cfg Config) *Service {
	s := &Service{
		env:       env,
		groups:    map[string]*securityGroup{},
		templates: map[string]*launchTemplate{},
		tags:      map[string]map[string]string{},
	}
	ops := map[string]handler{
		"DescribeVpcs":                   s.describeVpcs,
		"DescribeSubnets":                s.describeSubnets,
		"DescribeAvailabilityZones":      s.describeAvailabilityZones,
		"DescribeAccountAttributes":      s.describeAccountAttributes,
		"CreateSecurityGroup":            s.createSecurityGroup,
		"DescribeSecurityGroups":         s.describeSecurityGroups,
		"DeleteSecurityGroup":            s.deleteSecurityGroup,
		"AuthorizeSecurityGroupIngress":  s.authorize(false),
		"AuthorizeSecurityGroupEgress":   s.authorize(true),
		"RevokeSecurityGroupIngress":     s.revoke(false),
		"RevokeSecurityGroupEgress":      s.revoke(true),
		"CreateTags":                     s.createTags,
		"DeleteTags":                     s.deleteTags,
		"DescribeTags":                   s.describeTags,
		"CreateLaunchTemplate":           s.createLaunchTemplate,
		"DescribeLaunchTemplates":        s.describeLaunchTemplates,
		"DeleteLaunchTemplate":           s.deleteLaunchTemplate,
		"CreateLaunchTemplateVersion":    s.createLaunchTemplateVersion,
		"DescribeLaunchTemplateVersions": s.describeLaunchTemplateVersions,
		"ModifyLaunchTemplate":           s.modifyLaunchTemplate,
	}
	s.EC2.Ops = make(map[string]func(url.Values) (any, error), len(ops))
	for name, h := range ops {
		s.EC2.Ops[name] = func(form url.Values) (any, error) { return h(params{v: form}) }
	}
	if !cfg.NoDefaultVPC {
		s.createDefaultNetwork()
	}
	return s
}

func awsErr(status int, code, format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(status, code, format, a...)
}

func invalidParameterValue(format string, a ...any) *awsproto.Error {
	return awsErr(http.StatusBadRequest, "InvalidParameterValue", format, a...)
}

func missingParameter(name string) *awsproto.Error {
	return awsErr(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s", name)
}

// newID returns an EC2 resource ID: the prefix and 17 hex digits.
func newID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])[:17]
}

// idRE matches a well-formed ID of any EC2 resource type.
var idRE = awsproto.Pattern(`^[a-z]+(-[a-z]+)*-([0-9a-f]{8}|[0-9a-f]{17})$`)

func (s *Service) now() string { return s.env.Clock.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// tagSet is a resource's tags for its tagSet, sorted by key. The caller
// holds s.mu.
func (s *Service) tagSet(id string) []tagXML {
	var out []tagXML
	for _, k := range sortedKeys(s.tags[id]) {
		out = append(out, tagXML{k, s.tags[id][k]})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseTags reads Tag.N.Key/Value, keeping EC2's tag rules.
func parseTags(p params, key string) (map[string]string, error) {
	tags := map[string]string{}
	for _, t := range p.list(key) {
		k, v := t.str("Key"), t.str("Value")
		switch {
		case k == "":
			return nil, invalidParameterValue("Tag key cannot be null or empty.")
		case len(k) > 128:
			return nil, invalidParameterValue("Tag key exceeds the maximum length of 128 characters")
		case len(v) > 256:
			return nil, invalidParameterValue("Tag value exceeds the maximum length of 256 characters")
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, invalidParameterValue("Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", k)
		}
		tags[k] = v
	}
	return tags, nil
}

const maxTags = 50

// setTags merges tags into a resource's. The caller holds s.mu.
func (s *Service) setTags(id string, tags map[string]string) error {
	merged := map[string]string{}
	for k, v := range s.tags[id] {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	if len(merged) > maxTags {
		return awsErr(http.StatusBadRequest, "TagLimitExceeded", "The maximum number of tags for resource %s has been reached.", id)
	}
	if len(merged) > 0 {
		s.tags[id] = merged
	}
	return nil
}

// tagSpecifications reads TagSpecification.N for a Create call whose only
// taggable resource type is resourceType.
func tagSpecifications(p params, key, resourceType string) (map[string]string, error) {
	tags := map[string]string{}
	for _, spec := range p.list(key) {
		if rt := spec.str("ResourceType"); rt != resourceType {
			return nil, invalidParameterValue("'%s' is not a valid taggable resource type for this operation.", rt)
		}
		t, err := parseTags(spec, "Tag")
		if err != nil {
			return nil, err
		}
		for k, v := range t {
			tags[k] = v
		}
	}
	if len(tags) > maxTags {
		return nil, awsErr(http.StatusBadRequest, "TagLimitExceeded", "The maximum number of tags for a resource is %d.", maxTags)
	}
	return tags, nil
}

// matchFilters applies a Describe call's filters to one resource: fields
// gives the resource's values for a filter name (ok false for a name the
// resource type does not know), and tag:Key and tag-key come from its tags.
// Values may hold EC2's * and ? wildcards.
func matchFilters(filters []filter, tags map[string]string, fields func(name string) ([]string, bool)) (bool, error) {
	for _, f := range filters {
		var have []string
		switch {
		case strings.HasPrefix(f.name, "tag:"):
			if v, ok := tags[strings.TrimPrefix(f.name, "tag:")]; ok {
				have = []string{v}
			}
		case f.name == "tag-key":
			have = sortedKeys(tags)
		case f.name == "tag-value":
			for _, k := range sortedKeys(tags) {
				have = append(have, tags[k])
			}
		default:
			var ok bool
			if have, ok = fields(f.name); !ok {
				return false, invalidParameterValue("The filter '%s' is invalid", f.name)
			}
		}
		if !anyMatch(f.values, have) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(patterns []*regexp.Regexp, values []string) bool {
	for _, re := range patterns {
		for _, v := range values {
			if re.MatchString(v) {
				return true
			}
		}
	}
	return false
}

func wildcards(ps []string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(ps))
	for i, p := range ps {
		out[i] = wildcard(p)
	}
	return out
}

func wildcard(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// page cuts a Describe call's results by MaxResults and NextToken (the
// index of the next item).
func page[T any](p params, items []T, min, max int) ([]T, string, error) {
	start := 0
	if tok := p.str("NextToken"); tok != "" {
		if _, err := fmt.Sscanf(tok, "%d", &start); err != nil || start < 0 || start > len(items) {
			return nil, "", invalidParameterValue("The token '%s' is invalid.", tok)
		}
	}
	n, err := p.integer("MaxResults")
	if err != nil {
		return nil, "", err
	}
	if n == nil {
		return items[start:], "", nil
	}
	if *n < min || *n > max {
		return nil, "", invalidParameterValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", *n, min, max)
	}
	end := start + *n
	if end >= len(items) {
		return items[start:], "", nil
	}
	return items[start:end], fmt.Sprint(end), nil
}
