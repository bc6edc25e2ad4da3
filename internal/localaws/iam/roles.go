package iam

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

type tag struct{ Key, Value string }

type role struct {
	name, path, id, arn string
	created             time.Time
	trust               string
	description         string
	maxSession          int
	tags                []tag
	attached            []string          // managed policy ARNs, in attach order
	inline              map[string]string // policy name → document
}

// XML shapes of IAM's responses.
type (
	xmlTag  struct{ Key, Value string }
	xmlRole struct {
		Path                     string
		RoleName                 string
		RoleId                   string
		Arn                      string
		CreateDate               string
		AssumeRolePolicyDocument string
		Description              string   `xml:",omitempty"`
		MaxSessionDuration       int      `xml:",omitempty"`
		Tags                     []xmlTag `xml:"Tags>member,omitempty"`
	}
	roleResult      struct{ Role xmlRole }
	listRolesResult struct {
		Roles       []xmlRole `xml:"Roles>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
	listTagsResult struct {
		Tags        []xmlTag `xml:"Tags>member"`
		IsTruncated bool
		Marker      string `xml:",omitempty"`
	}
)

// xml is the role as IAM returns it; withTags for the calls that include
// them (GetRole, CreateRole, GetInstanceProfile), not ListRoles.
func (r *role) xml(withTags bool) xmlRole {
	x := xmlRole{
		Path: r.path, RoleName: r.name, RoleId: r.id, Arn: r.arn,
		CreateDate:               isoTime(r.created),
		AssumeRolePolicyDocument: encodeDocument(r.trust),
		Description:              r.description,
		MaxSessionDuration:       r.maxSession,
	}
	if withTags {
		x.Tags = xmlTags(r.tags)
	}
	return x
}

func xmlTags(tags []tag) []xmlTag {
	var out []xmlTag
	for _, t := range tags {
		out = append(out, xmlTag(t))
	}
	return out
}

// role finds a role by name (case-insensitively, as IAM names are unique
// regardless of case).
func (s *Service) role(name string) (*role, error) {
	if err := checkName("roleName", name, maxRoleName); err != nil {
		return nil, err
	}
	r, ok := s.roles[strings.ToLower(name)]
	if !ok {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

func (s *Service) createRole(p params) (any, error) {
	name := p.get("RoleName")
	if err := checkName("roleName", name, maxRoleName); err != nil {
		return nil, err
	}
	path := p.get("Path")
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if path == "" {
		path = "/"
	}
	desc := p.get("Description")
	if len(desc) > maxDescription {
		return nil, constraintError(desc, "description", "must have length less than or equal to 1000")
	}
	if !descriptionPattern().MatchString(desc) {
		return nil, constraintError(desc, "description", `must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`)
	}
	maxSession := minSessionDuration
	if v := p.get("MaxSessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < minSessionDuration || n > maxSessionDuration {
			return nil, constraintError(v, "maxSessionDuration", "must have value between 3600 and 43200")
		}
		maxSession = n
	}
	trust := p.get("AssumeRolePolicyDocument")
	if err := checkPolicyDocument(trust, trustPolicy); err != nil {
		return nil, err
	}
	tags, err := checkTags(nil, p.tags(), "Role")
	if err != nil {
		return nil, err
	}
	if _, ok := s.roles[strings.ToLower(name)]; ok {
		return nil, alreadyExists("Role with name %s already exists.", name)
	}
	r := &role{
		name: name, path: path, id: newID("AROA"),
		arn:     s.env.ARN("iam", "", "role"+path+name),
		created: s.env.Clock.Now(),
		trust:   trust, description: desc, maxSession: maxSession, tags: tags,
		inline: map[string]string{},
	}
	s.roles[strings.ToLower(name)] = r
	return roleResult{r.xml(true)}, nil
}

func (s *Service) getRole(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	return roleResult{r.xml(true)}, nil
}

func (s *Service) deleteRole(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	switch {
	case len(r.attached) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(r.inline) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	}
	for _, ip := range s.profiles {
		if ip.role == r {
			return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
	}
	delete(s.roles, strings.ToLower(r.name))
	return nil, nil
}

// sortedRoles lists roles in IAM's order, by name.
func (s *Service) sortedRoles() []*role {
	out := make([]*role, 0, len(s.roles))
	for _, r := range s.roles {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *role) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return out
}

func (s *Service) listRoles(p params) (any, error) {
	prefix := p.get("PathPrefix")
	if err := checkPathPrefix(prefix); err != nil {
		return nil, err
	}
	var matched []*role
	for _, r := range s.sortedRoles() {
		if strings.HasPrefix(r.path, prefix) {
			matched = append(matched, r)
		}
	}
	pg, truncated, marker, err := page(p, matched, func(r *role) string { return strings.ToLower(r.name) })
	if err != nil {
		return nil, err
	}
	res := listRolesResult{IsTruncated: truncated, Marker: marker}
	for _, r := range pg {
		res.Roles = append(res.Roles, r.xml(false))
	}
	return res, nil
}

func (s *Service) updateAssumeRolePolicy(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	doc := p.get("PolicyDocument")
	if err := checkPolicyDocument(doc, trustPolicy); err != nil {
		return nil, err
	}
	r.trust = doc
	return nil, nil
}

func (s *Service) tagRole(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(r.tags, p.tags(), "Role")
	if err != nil {
		return nil, err
	}
	r.tags = tags
	return nil, nil
}

func (s *Service) untagRole(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	r.tags = untag(r.tags, p.list("TagKeys"))
	return nil, nil
}

func (s *Service) listRoleTags(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	return listTags(p, r.tags)
}

// listTags pages tags in the order they were added; the marker is the
// position, zero-padded so that it sorts.
func listTags(p params, tags []tag) (any, error) {
	type indexed struct {
		i int
		t tag
	}
	var items []indexed
	for i, t := range tags {
		items = append(items, indexed{i, t})
	}
	pg, truncated, marker, err := page(p, items, func(x indexed) string { return padded(x.i) })
	if err != nil {
		return nil, err
	}
	res := listTagsResult{IsTruncated: truncated, Marker: marker}
	for _, x := range pg {
		res.Tags = append(res.Tags, xmlTag(x.t))
	}
	return res, nil
}

func padded(i int) string {
	s := strconv.Itoa(i)
	return strings.Repeat("0", 8-len(s)) + s
}
