package iam

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// IAM's documented parameter constraints.
var (
	namePattern       = awsproto.Pattern(`^[\w+=,.@-]+$`)
	pathPattern       = awsproto.Pattern(`^(/|/[\x21-\x7F]+/)$`)
	pathPrefixPattern = awsproto.Pattern(`^/[\x21-\x7F]*$`)
	// descriptionPattern is IAM's [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*.
	descriptionPattern = awsproto.Pattern(`^[\t\n\r\x{20}-\x{7E}\x{A1}-\x{FF}]*$`)
	tagKeyPattern      = awsproto.Pattern(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern    = awsproto.Pattern(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// IAM's quotas that the stand-in enforces.
const (
	maxRoleName          = 64
	maxProfileName       = 128
	maxPolicyName        = 128
	maxPath              = 512
	maxDescription       = 1000
	maxTags              = 50
	maxInlinePolicyChars = 10240
	minSessionDuration   = 3600
	maxSessionDuration   = 43200
)

func validationError(format string, a ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, "ValidationError", format, a...)
}

// constraintError spells a parameter constraint failure as IAM does.
func constraintError(value, field, constraint string) error {
	return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member %s", value, field, constraint)
}

func noSuchEntity(format string, a ...any) error {
	return awsproto.Errorf(http.StatusNotFound, "NoSuchEntity", format, a...)
}

func alreadyExists(format string, a ...any) error {
	return awsproto.Errorf(http.StatusConflict, "EntityAlreadyExists", format, a...)
}

func deleteConflict(format string, a ...any) error {
	return awsproto.Errorf(http.StatusConflict, "DeleteConflict", format, a...)
}

func limitExceeded(format string, a ...any) error {
	return awsproto.Errorf(http.StatusConflict, "LimitExceeded", format, a...)
}

func invalidInput(format string, a ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidInput", format, a...)
}

func malformedPolicy(format string, a ...any) error {
	return awsproto.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", format, a...)
}

// checkName checks a role, profile or policy name against IAM's pattern and
// length; field is the parameter as IAM's messages spell it (roleName).
func checkName(field, name string, max int) error {
	switch {
	case name == "":
		return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	case len(name) > max:
		return constraintError(name, field, fmt.Sprintf("must have length less than or equal to %d", max))
	case !namePattern().MatchString(name):
		return constraintError(name, field, `must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	return nil
}

// checkPath checks a resource path; "" is the default "/".
func checkPath(path string) error {
	switch {
	case path == "":
		return nil
	case len(path) > maxPath:
		return constraintError(path, "path", fmt.Sprintf("must have length less than or equal to %d", maxPath))
	case !pathPattern().MatchString(path):
		return constraintError(path, "path", `must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007F]+\u002F)`)
	}
	return nil
}

func checkPathPrefix(prefix string) error {
	switch {
	case prefix == "":
		return nil
	case len(prefix) > maxPath:
		return constraintError(prefix, "pathPrefix", fmt.Sprintf("must have length less than or equal to %d", maxPath))
	case !pathPrefixPattern().MatchString(prefix):
		return constraintError(prefix, "pathPrefix", `must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	}
	return nil
}

// checkTags checks tags as TagRole and the Create calls take them, and
// returns them merged into existing (a key, case-insensitively, is
// replaced), refusing to go past IAM's 50 tags a resource.
func checkTags(existing, add []tag, resource string) ([]tag, error) {
	seen := map[string]bool{}
	for _, t := range add {
		switch {
		case len(t.Key) == 0 || len(t.Key) > 128:
			return nil, constraintError(t.Key, "tags.member.key", "must have length between 1 and 128")
		case len(t.Value) > 256:
			return nil, constraintError(t.Value, "tags.member.value", "must have length less than or equal to 256")
		case !tagKeyPattern().MatchString(t.Key):
			return nil, constraintError(t.Key, "tags.member.key", `must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		case !tagValuePattern().MatchString(t.Value):
			return nil, constraintError(t.Value, "tags.member.value", `must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return nil, invalidInput("User is not authorized to perform AWS tag operations: the aws: prefix is reserved")
		case seen[strings.ToLower(t.Key)]:
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(t.Key)] = true
	}
	out := append([]tag(nil), existing...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i], replaced = t, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, limitExceeded("Cannot exceed quota for TagsPer%s: %d", resource, maxTags)
	}
	return out, nil
}

// untag removes keys, case-insensitively; absent keys are ignored, as IAM
// does.
func untag(tags []tag, keys []string) []tag {
	var out []tag
	for _, t := range tags {
		drop := false
		for _, k := range keys {
			drop = drop || strings.EqualFold(t.Key, k)
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// policyKind tells a trust policy (it names who may assume the role) from an
// identity policy (it must not name a principal).
type policyKind int

const (
	trustPolicy policyKind = iota
	identityPolicy
)

// checkPolicyDocument applies IAM's grammar checks that matter to a caller:
// valid JSON, a Statement, effects Allow or Deny, a Principal exactly where
// the policy kind wants one, and actions.
func checkPolicyDocument(doc string, kind policyKind) error {
	if strings.TrimSpace(doc) == "" {
		return validationError("1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	var p struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return malformedPolicy("This policy contains invalid Json")
	}
	if p.Version != "" && p.Version != "2012-10-17" && p.Version != "2008-10-17" {
		return malformedPolicy("The policy failed legacy parsing")
	}
	if len(p.Statement) == 0 || string(p.Statement) == "null" {
		return malformedPolicy("Syntax errors in policy. Missing required field Statement")
	}
	type statement struct {
		Effect    string
		Principal json.RawMessage
		Action    json.RawMessage
		NotAction json.RawMessage
	}
	var stmts []statement
	if err := json.Unmarshal(p.Statement, &stmts); err != nil {
		var one statement
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return malformedPolicy("Syntax errors in policy.")
		}
		stmts = []statement{one}
	}
	if len(stmts) == 0 {
		return malformedPolicy("Syntax errors in policy. Statement is empty")
	}
	for _, st := range stmts {
		switch {
		case st.Effect != "Allow" && st.Effect != "Deny":
			return malformedPolicy("Invalid effect: %s", st.Effect)
		case kind == trustPolicy && len(st.Principal) == 0:
			return malformedPolicy("Missing required field Principal")
		case kind == identityPolicy && len(st.Principal) != 0:
			return malformedPolicy("Policy document should not specify a principal.")
		case len(st.Action) == 0 && len(st.NotAction) == 0:
			return malformedPolicy("Policy statement must contain actions.")
		}
	}
	return nil
}

// policyChars is a policy's size as IAM counts it against its quotas:
// whitespace does not count.
func policyChars(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// encodeDocument URL-encodes a policy document as IAM returns it in every
// response (the SDK hands it to the caller still encoded). Spaces become %20
// so both path and query unescaping read it back.
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// isoTime is IAM's timestamp form.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// newID returns a unique ID with IAM's prefix for the kind (AROA for a
// role, AIPA for an instance profile) and 17 upper-case alphanumerics.
func newID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 17)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }

// page cuts one page out of items (already in IAM's order, by key) for
// MaxItems and Marker. The marker is opaque to callers: the key of the
// first item of the next page.
func page[T any](p params, items []T, key func(T) string) (out []T, truncated bool, marker string, err error) {
	max := 100
	if v := p.get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, false, "", constraintError(v, "maxItems", "must have value between 1 and 1000")
		}
		max = n
	}
	start := 0
	if m := p.get("Marker"); m != "" {
		k, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return nil, false, "", invalidInput("Invalid Marker: %s", m)
		}
		for start < len(items) && key(items[start]) < string(k) {
			start++
		}
	}
	end := min(start+max, len(items))
	if end < len(items) {
		return items[start:end], true, base64.RawURLEncoding.EncodeToString([]byte(key(items[end]))), nil
	}
	return items[start:end], false, "", nil
}
