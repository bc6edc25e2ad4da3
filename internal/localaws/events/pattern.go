package events

import (
	"encoding/json"
	"fmt"
	"strings"
)

// compilePattern turns an event pattern into a matcher. It keeps
// EventBridge's rules: the pattern is a JSON object whose fields are objects
// (matched against the event's object of that name) or non-empty arrays of
// values, any of which the event's field must equal (an array field
// matches when any of its elements does); an array may also hold the
// content filters {"prefix": "..."}, {"exists": bool} and
// {"anything-but": value or list}.
func compilePattern(p string) (func(map[string]any) bool, error) {
	var pat map[string]any
	if err := json.Unmarshal([]byte(p), &pat); err != nil {
		return nil, invalidPattern("Filter is not an object")
	}
	if err := checkPattern(pat); err != nil {
		return nil, err
	}
	return func(ev map[string]any) bool { return matchObject(pat, ev) }, nil
}

func checkPattern(pat map[string]any) error {
	for k, v := range pat {
		switch v := v.(type) {
		case map[string]any:
			if err := checkPattern(v); err != nil {
				return err
			}
		case []any:
			if len(v) == 0 {
				return invalidPattern("Empty arrays are not allowed")
			}
			for _, e := range v {
				if f, ok := e.(map[string]any); ok {
					if err := checkFilter(k, f); err != nil {
						return err
					}
				}
			}
		default:
			return invalidPattern("Match value must be String, number, true, false, or null at %s", k)
		}
	}
	return nil
}

func checkFilter(field string, f map[string]any) error {
	if len(f) != 1 {
		return invalidPattern("Only one key allowed in match expression at %s", field)
	}
	for op, v := range f {
		switch op {
		case "prefix":
			if _, ok := v.(string); !ok {
				return invalidPattern("prefix match pattern must be a string at %s", field)
			}
		case "exists":
			if _, ok := v.(bool); !ok {
				return invalidPattern("exists match pattern must be either true or false at %s", field)
			}
		case "anything-but":
		default:
			return invalidPattern("Unrecognized match type %s at %s", op, field)
		}
	}
	return nil
}

func matchObject(pat, ev map[string]any) bool {
	for k, pv := range pat {
		v, present := ev[k]
		switch p := pv.(type) {
		case map[string]any:
			sub, ok := v.(map[string]any)
			if !ok || !matchObject(p, sub) {
				return false
			}
		case []any:
			if !matchValues(p, v, present) {
				return false
			}
		}
	}
	return true
}

// matchValues says whether any of the pattern's values matches the event's
// field (each of its elements, when it is an array).
func matchValues(pat []any, v any, present bool) bool {
	values := []any{v}
	if arr, ok := v.([]any); ok {
		values = arr
	}
	for _, p := range pat {
		if f, ok := p.(map[string]any); ok {
			if matchFilter(f, values, present) {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		for _, e := range values {
			if equal(p, e) {
				return true
			}
		}
	}
	return false
}

func matchFilter(f map[string]any, values []any, present bool) bool {
	for op, arg := range f {
		switch op {
		case "exists":
			return present == arg.(bool)
		case "prefix":
			for _, e := range values {
				if s, ok := e.(string); ok && present && strings.HasPrefix(s, arg.(string)) {
					return true
				}
			}
		case "anything-but":
			if !present {
				return false
			}
			excluded := []any{arg}
			if l, ok := arg.([]any); ok {
				excluded = l
			}
			for _, e := range values {
				for _, x := range excluded {
					if equal(x, e) {
						return false
					}
				}
			}
			return true
		}
	}
	return false
}

func equal(a, b any) bool {
	return fmt.Sprintf("%T:%v", a, a) == fmt.Sprintf("%T:%v", b, b)
}
