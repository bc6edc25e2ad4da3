package iam

import (
	"net/url"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's IAM, a global service: its ARNs carry no region.
type Service struct {
	awsproto.Query
	env awsproto.Env
	// propagation is how long a new role or profile stays invisible to
	// RoleVisible and InstanceProfileVisible.
	propagation time.Duration

	mu       sync.Mutex
	roles    map[string]*role    // by lower-case name: IAM names ignore case
	profiles map[string]*profile // by lower-case name
}

// New returns an empty IAM. propagation is IAM's eventual-consistency delay
// as the other services see it (0: at once).
func New(env awsproto.Env, propagation time.Duration) *Service {
	s := &Service{
		env:         env,
		propagation: propagation,
		roles:       map[string]*role{},
		profiles:    map[string]*profile{},
	}
	s.Query = awsproto.Query{Name: "IAM", Namespace: awsproto.IAMNamespace, Ops: s.operations()}
	return s
}

// operations are IAM's operations, each run under the service's lock: the
// result struct to write inside <ActionResult> (nil for none), or an error.
func (s *Service) operations() map[string]func(url.Values) (any, error) {
	op := func(h func(s *Service, p params) (any, error)) func(url.Values) (any, error) {
		return func(form url.Values) (any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			return h(s, params(form))
		}
	}
	return map[string]func(url.Values) (any, error){
		"CreateRole":                    op((*Service).createRole),
		"GetRole":                       op((*Service).getRole),
		"DeleteRole":                    op((*Service).deleteRole),
		"ListRoles":                     op((*Service).listRoles),
		"UpdateAssumeRolePolicy":        op((*Service).updateAssumeRolePolicy),
		"TagRole":                       op((*Service).tagRole),
		"UntagRole":                     op((*Service).untagRole),
		"ListRoleTags":                  op((*Service).listRoleTags),
		"AttachRolePolicy":              op((*Service).attachRolePolicy),
		"DetachRolePolicy":              op((*Service).detachRolePolicy),
		"ListAttachedRolePolicies":      op((*Service).listAttachedRolePolicies),
		"PutRolePolicy":                 op((*Service).putRolePolicy),
		"GetRolePolicy":                 op((*Service).getRolePolicy),
		"DeleteRolePolicy":              op((*Service).deleteRolePolicy),
		"ListRolePolicies":              op((*Service).listRolePolicies),
		"GetPolicy":                     op((*Service).getPolicy),
		"CreateInstanceProfile":         op((*Service).createInstanceProfile),
		"GetInstanceProfile":            op((*Service).getInstanceProfile),
		"DeleteInstanceProfile":         op((*Service).deleteInstanceProfile),
		"ListInstanceProfiles":          op((*Service).listInstanceProfiles),
		"ListInstanceProfilesForRole":   op((*Service).listInstanceProfilesForRole),
		"AddRoleToInstanceProfile":      op((*Service).addRoleToInstanceProfile),
		"RemoveRoleFromInstanceProfile": op((*Service).removeRoleFromInstanceProfile),
		"TagInstanceProfile":            op((*Service).tagInstanceProfile),
		"UntagInstanceProfile":          op((*Service).untagInstanceProfile),
		"ListInstanceProfileTags":       op((*Service).listInstanceProfileTags),
	}
}

// params are a query-protocol request's form values.
type params url.Values

func (p params) get(k string) string { return url.Values(p).Get(k) }

func (p params) has(k string) bool { _, ok := p[k]; return ok }

// list is a query-protocol list: k.member.1, k.member.2, ...
func (p params) list(k string) []string {
	var out []string
	for i := 1; ; i++ {
		key := k + ".member." + itoa(i)
		if !p.has(key) {
			return out
		}
		out = append(out, p.get(key))
	}
}

// tags is the Tags list of Key/Value pairs.
func (p params) tags() []tag {
	var out []tag
	for i := 1; ; i++ {
		prefix := "Tags.member." + itoa(i)
		if !p.has(prefix+".Key") && !p.has(prefix+".Value") {
			return out
		}
		out = append(out, tag{Key: p.get(prefix + ".Key"), Value: p.get(prefix + ".Value")})
	}
}
