package iam

import (
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's IAM, a global service: its ARNs carry no region.
type Service struct {
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
	return &Service{
		env:         env,
		propagation: propagation,
		roles:       map[string]*role{},
		profiles:    map[string]*profile{},
	}
}

// handler answers one operation: the result struct to write inside
// <ActionResult> (nil for none), or an error.
type handler func(s *Service, p params) (any, error)

var handlers = map[string]handler{
	"CreateRole":                    (*Service).createRole,
	"GetRole":                       (*Service).getRole,
	"DeleteRole":                    (*Service).deleteRole,
	"ListRoles":                     (*Service).listRoles,
	"UpdateAssumeRolePolicy":        (*Service).updateAssumeRolePolicy,
	"TagRole":                       (*Service).tagRole,
	"UntagRole":                     (*Service).untagRole,
	"ListRoleTags":                  (*Service).listRoleTags,
	"AttachRolePolicy":              (*Service).attachRolePolicy,
	"DetachRolePolicy":              (*Service).detachRolePolicy,
	"ListAttachedRolePolicies":      (*Service).listAttachedRolePolicies,
	"PutRolePolicy":                 (*Service).putRolePolicy,
	"GetRolePolicy":                 (*Service).getRolePolicy,
	"DeleteRolePolicy":              (*Service).deleteRolePolicy,
	"ListRolePolicies":              (*Service).listRolePolicies,
	"GetPolicy":                     (*Service).getPolicy,
	"CreateInstanceProfile":         (*Service).createInstanceProfile,
	"GetInstanceProfile":            (*Service).getInstanceProfile,
	"DeleteInstanceProfile":         (*Service).deleteInstanceProfile,
	"ListInstanceProfiles":          (*Service).listInstanceProfiles,
	"ListInstanceProfilesForRole":   (*Service).listInstanceProfilesForRole,
	"AddRoleToInstanceProfile":      (*Service).addRoleToInstanceProfile,
	"RemoveRoleFromInstanceProfile": (*Service).removeRoleFromInstanceProfile,
	"TagInstanceProfile":            (*Service).tagInstanceProfile,
	"UntagInstanceProfile":          (*Service).untagInstanceProfile,
	"ListInstanceProfileTags":       (*Service).listInstanceProfileTags,
}

// ServeHTTP answers one IAM query-protocol request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		awsproto.WriteQueryError(w, awsproto.Errorf(http.StatusBadRequest, "MalformedQueryString", "parse request: %v", err))
		return
	}
	action := r.Form.Get("Action")
	h, ok := handlers[action]
	if !ok {
		awsproto.WriteQueryError(w, awsproto.NotImplemented("IAM", action))
		return
	}
	s.mu.Lock()
	result, err := h(s, params(r.Form))
	s.mu.Unlock()
	if err != nil {
		awsproto.WriteQueryError(w, awsproto.AsError(err))
		return
	}
	awsproto.WriteQuery(w, awsproto.IAMNamespace, action, result)
}

// Operation is the request's Action.
func (s *Service) Operation(r *http.Request, body []byte) string {
	return awsproto.QueryAction(r, body)
}

// WriteError writes e as IAM does.
func (s *Service) WriteError(w http.ResponseWriter, _ *http.Request, e *awsproto.Error) {
	awsproto.WriteQueryError(w, e)
}

// ThrottleError is IAM's rate limit answer.
func (s *Service) ThrottleError() *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
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
