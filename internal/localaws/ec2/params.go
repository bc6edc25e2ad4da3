package ec2

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// params is an EC2 query request's form, read as a tree: EC2 flattens
// nested structures and lists into dotted keys
// (IpPermissions.1.IpRanges.1.CidrIp), and a params value is the subtree
// under one prefix.
type params struct {
	v      url.Values
	prefix string
}

func (p params) str(key string) string { return p.v.Get(p.prefix + key) }

func (p params) has(key string) bool {
	k := p.prefix + key
	for name := range p.v {
		if name == k || strings.HasPrefix(name, k+".") {
			return true
		}
	}
	return false
}

func (p params) sub(key string) params { return params{p.v, p.prefix + key + "."} }

// list is the members of a flattened list: key.1, key.2, … in order.
func (p params) list(key string) []params {
	var out []params
	for i := 1; p.has(key + "." + strconv.Itoa(i)); i++ {
		out = append(out, p.sub(key+"."+strconv.Itoa(i)))
	}
	return out
}

// strings is a flattened list of strings: key.1, key.2, ….
func (p params) strings(key string) []string {
	var out []string
	for _, m := range p.list(key) {
		out = append(out, m.v.Get(strings.TrimSuffix(m.prefix, ".")))
	}
	return out
}

// integer reads an optional integer; malformed numbers are EC2's
// InvalidParameterValue.
func (p params) integer(key string) (*int, error) {
	s := p.str(key)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, invalidParameterValue("Value (%s) for parameter %s is invalid. It must be an integer.", s, key)
	}
	return &n, nil
}

// filter is one Filter.N of a Describe call.
type filter struct {
	name string
	// values are the filter's values as patterns, compiled once a call.
	values []*regexp.Regexp
}

func (p params) filters() []filter {
	var out []filter
	for _, f := range p.list("Filter") {
		out = append(out, filter{f.str("Name"), wildcards(f.strings("Value"))})
	}
	return out
}
