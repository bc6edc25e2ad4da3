package iam

import (
	"slices"
	"strings"
	"time"
)

type profile struct {
	name, path, id, arn string
	created             time.Time
	tags                []tag
	// role is the one role an instance profile may hold, added at
	// roleAdded.
	role      *role
	roleAdded time.Time
}

type (
	xmlProfile struct {
		Path                string
		InstanceProfileName string
		InstanceProfileId   string
		Arn                 string
		CreateDate          string
		Roles               []xmlRole `xml:"Roles>member"`
		Tags                []xmlTag  `xml:"Tags>member,omitempty"`
	}
	profileResult      struct{ InstanceProfile xmlProfile }
	listProfilesResult struct {
		InstanceProfiles []xmlProfile `xml:"InstanceProfiles>member"`
		IsTruncated      bool
		Marker           string `xml:",omitempty"`
	}
)

func (ip *profile) xml(withTags bool) xmlProfile {
	x := xmlProfile{
		Path: ip.path, InstanceProfileName: ip.name, InstanceProfileId: ip.id, Arn: ip.arn,
		CreateDate: isoTime(ip.created),
	}
	if ip.role != nil {
		x.Roles = []xmlRole{ip.role.xml(false)}
	}
	if withTags {
		x.Tags = xmlTags(ip.tags)
	}
	return x
}

func (s *Service) profile(name string) (*profile, error) {
	if err := checkName("instanceProfileName", name, maxProfileName); err != nil {
		return nil, err
	}
	ip, ok := s.profiles[strings.ToLower(name)]
	if !ok {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return ip, nil
}

func (s *Service) createInstanceProfile(p params) (any, error) {
	name := p.get("InstanceProfileName")
	if err := checkName("instanceProfileName", name, maxProfileName); err != nil {
		return nil, err
	}
	path := p.get("Path")
	if err := checkPath(path); err != nil {
		return nil, err
	}
	if path == "" {
		path = "/"
	}
	tags, err := checkTags(nil, p.tags(), "InstanceProfile")
	if err != nil {
		return nil, err
	}
	if _, ok := s.profiles[strings.ToLower(name)]; ok {
		return nil, alreadyExists("Instance Profile %s already exists.", name)
	}
	ip := &profile{
		name: name, path: path, id: newID("AIPA"),
		arn:     s.env.ARN("iam", "", "instance-profile"+path+name),
		created: s.env.Clock.Now(), tags: tags,
	}
	s.profiles[strings.ToLower(name)] = ip
	return profileResult{ip.xml(true)}, nil
}

func (s *Service) getInstanceProfile(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	return profileResult{ip.xml(true)}, nil
}

func (s *Service) deleteInstanceProfile(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	if ip.role != nil {
		return nil, deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(s.profiles, strings.ToLower(ip.name))
	return nil, nil
}

func (s *Service) sortedProfiles(keep func(*profile) bool) []*profile {
	var out []*profile
	for _, ip := range s.profiles {
		if keep(ip) {
			out = append(out, ip)
		}
	}
	slices.SortFunc(out, func(a, b *profile) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return out
}

func listProfiles(p params, profiles []*profile) (any, error) {
	pg, truncated, marker, err := page(p, profiles, func(ip *profile) string { return strings.ToLower(ip.name) })
	if err != nil {
		return nil, err
	}
	res := listProfilesResult{IsTruncated: truncated, Marker: marker}
	for _, ip := range pg {
		res.InstanceProfiles = append(res.InstanceProfiles, ip.xml(false))
	}
	return res, nil
}

func (s *Service) listInstanceProfiles(p params) (any, error) {
	prefix := p.get("PathPrefix")
	if err := checkPathPrefix(prefix); err != nil {
		return nil, err
	}
	return listProfiles(p, s.sortedProfiles(func(ip *profile) bool { return strings.HasPrefix(ip.path, prefix) }))
}

func (s *Service) listInstanceProfilesForRole(p params) (any, error) {
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	return listProfiles(p, s.sortedProfiles(func(ip *profile) bool { return ip.role == r }))
}

func (s *Service) addRoleToInstanceProfile(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	// One role a profile, even the same one again: IAM's quota, which
	// cannot be raised.
	if ip.role != nil {
		return nil, limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	ip.role, ip.roleAdded = r, s.env.Clock.Now()
	return nil, nil
}

func (s *Service) removeRoleFromInstanceProfile(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	r, err := s.role(p.get("RoleName"))
	if err != nil {
		return nil, err
	}
	if ip.role != r {
		return nil, noSuchEntity("The role with name %s cannot be found in instance profile %s.", r.name, ip.name)
	}
	ip.role = nil
	return nil, nil
}

func (s *Service) tagInstanceProfile(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(ip.tags, p.tags(), "InstanceProfile")
	if err != nil {
		return nil, err
	}
	ip.tags = tags
	return nil, nil
}

func (s *Service) untagInstanceProfile(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	ip.tags = untag(ip.tags, p.list("TagKeys"))
	return nil, nil
}

func (s *Service) listInstanceProfileTags(p params) (any, error) {
	ip, err := s.profile(p.get("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	return listTags(p, ip.tags)
}
