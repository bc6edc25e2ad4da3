package iam

import (
	"strings"
	"time"
)

// RoleVisible reports whether the role, by name or ARN, exists and has
// propagated: the propagation delay has passed since it was created. Other
// services call it where AWS would fail on a role it cannot see yet.
func (s *Service) RoleVisible(nameOrARN string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.roles[strings.ToLower(nameFrom(nameOrARN, ":role/"))]
	if !ok || (isARN(nameOrARN) && nameOrARN != r.arn) {
		return false
	}
	return s.propagated(r.created)
}

// InstanceProfileVisible reports whether the instance profile, by name or
// ARN, exists and has propagated: the delay has passed since it was created
// and, if it holds a role, since the role was added. A profile without a
// role is visible as a profile; whether that is usable is the caller's rule.
func (s *Service) InstanceProfileVisible(nameOrARN string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ip, ok := s.profiles[strings.ToLower(nameFrom(nameOrARN, ":instance-profile/"))]
	if !ok || (isARN(nameOrARN) && nameOrARN != ip.arn) {
		return false
	}
	if !s.propagated(ip.created) {
		return false
	}
	return ip.role == nil || s.propagated(ip.roleAdded)
}

func (s *Service) propagated(since time.Time) bool {
	return !s.env.Clock.Now().Before(since.Add(s.propagation))
}

func isARN(s string) bool { return strings.HasPrefix(s, "arn:") }

// nameFrom is the name in an ARN of the given kind (the part after the
// path), or s itself when it is a name; "" for an ARN of another kind.
func nameFrom(s, kind string) string {
	if !isARN(s) {
		return s
	}
	if !strings.Contains(s, kind) {
		return ""
	}
	return s[strings.LastIndexByte(s, '/')+1:]
}
