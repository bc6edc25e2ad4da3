package xray

import (
	"fmt"
	"strconv"
	"strings"
)

// pred is a compiled filter expression: whether a trace matches.
type pred func(*summary) bool

// filterError is a malformed filter expression: what is wrong and where
// (a byte offset into the expression).
type filterError struct {
	Offset  int
	Problem string
}

func (e *filterError) Error() string {
	return fmt.Sprintf("invalid filter expression: %s at offset %d", e.Problem, e.Offset)
}

type tokenKind int

const (
	tEOF    tokenKind = iota
	tIdent            // a keyword, a field (http.url, annotation.key), and, or, not
	tString           // "text", unquoted in text
	tNumber           // 12, -1.5, 3e2
	tOp               // = != < <= > >=
	tNot              // !
	tAnd              // &&
	tOr               // ||
	tLParen
	tRParen
	tLBrace
	tRBrace
)

type token struct {
	kind tokenKind
	text string
	num  float64
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end of the expression"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func isIdentPart(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '.'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lex splits a filter expression into tokens.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '"':
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					return nil, &filterError{start, "unterminated string"}
				}
				if src[i] == '\\' && i+1 < len(src) {
					b.WriteByte(src[i+1])
					i += 2
					continue
				}
				if src[i] == '"' {
					i++
					break
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, token{kind: tString, text: b.String(), pos: start})
			continue
		case isDigit(c) || (c == '-' || c == '.') && i+1 < len(src) && (isDigit(src[i+1]) || src[i+1] == '.'):
			i++
			for i < len(src) && (isDigit(src[i]) || src[i] == '.' ||
				(src[i] == 'e' || src[i] == 'E') ||
				(src[i] == '+' || src[i] == '-') && (src[i-1] == 'e' || src[i-1] == 'E')) {
				i++
			}
			v, err := strconv.ParseFloat(src[start:i], 64)
			if err != nil {
				return nil, &filterError{start, fmt.Sprintf("malformed number %q", src[start:i])}
			}
			toks = append(toks, token{kind: tNumber, text: src[start:i], num: v, pos: start})
			continue
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: src[start:i], pos: start})
			continue
		}
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		switch {
		case two == "!=" || two == "<=" || two == ">=":
			toks = append(toks, token{kind: tOp, text: two, pos: start})
			i += 2
		case two == "&&":
			toks = append(toks, token{kind: tAnd, text: two, pos: start})
			i += 2
		case two == "||":
			toks = append(toks, token{kind: tOr, text: two, pos: start})
			i += 2
		case c == '=' || c == '<' || c == '>':
			toks = append(toks, token{kind: tOp, text: string(c), pos: start})
			i++
		default:
			kinds := map[byte]tokenKind{'!': tNot, '(': tLParen, ')': tRParen, '{': tLBrace, '}': tRBrace}
			k, ok := kinds[c]
			if !ok {
				return nil, &filterError{start, fmt.Sprintf("unexpected character %q", string(rune(c)))}
			}
			toks = append(toks, token{kind: k, text: string(c), pos: start})
			i++
		}
	}
	return append(toks, token{kind: tEOF, pos: len(src)}), nil
}

// parseFilter compiles a filter expression. The grammar, with keywords and
// the words and/or/not in any case:
//
//	expr      = and { ("or" | "||") and }
//	and       = unary { ("and" | "&&") unary }
//	unary     = ("not" | "!") unary | "(" expr ")" | condition
//	condition = flag [ ("=" | "!=") bool ]          ok error fault throttle partial
//	          | number-field compare number         duration responsetime http.status
//	          | string-field string-op string       http.url http.method http.useragent http.clientip
//	          | "annotation." key [ op value ]      present, or compared
//	          | "service" "(" string ")" [ "{" expr "}" ]
//
// Inside service("name") { ... } the flags and responsetime are that
// service's.
func parseFilter(src string) (pred, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if p.peek().kind == tEOF {
		return nil, &filterError{0, "empty expression"}
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, &filterError{t.pos, fmt.Sprintf("unexpected %s after a complete condition", t)}
	}
	return e, nil
}

type parser struct {
	toks  []token
	i     int
	scope string // the service of an enclosing service("name") { }
	depth int
}

// maxDepth bounds nesting so a hostile expression cannot exhaust the stack.
const maxDepth = 100

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) word(t token, w string) bool {
	return t.kind == tIdent && strings.EqualFold(t.text, w)
}

func (p *parser) expect(k tokenKind, what string) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, &filterError{t.pos, fmt.Sprintf("expected %s, found %s", what, t)}
	}
	return t, nil
}

func (p *parser) or() (pred, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tOr || p.word(t, "or"); t = p.peek() {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(s *summary) bool { return l(s) || right(s) }
	}
	return left, nil
}

func (p *parser) and() (pred, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for t := p.peek(); t.kind == tAnd || p.word(t, "and"); t = p.peek() {
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(s *summary) bool { return l(s) && right(s) }
	}
	return left, nil
}

func (p *parser) unary() (pred, error) {
	p.depth++
	defer func() { p.depth-- }()
	t := p.peek()
	if p.depth > maxDepth {
		return nil, &filterError{t.pos, "expression nested too deeply"}
	}
	switch {
	case t.kind == tNot || p.word(t, "not"):
		p.next()
		e, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(s *summary) bool { return !e(s) }, nil
	case t.kind == tLParen:
		p.next()
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, err
		}
		return e, nil
	case t.kind == tIdent && !p.word(t, "and") && !p.word(t, "or"):
		p.next()
		return p.condition(t)
	}
	return nil, &filterError{t.pos, fmt.Sprintf("expected a condition, found %s", t)}
}

var stringOps = []string{"=", "!=", "CONTAINS", "BEGINSWITH", "ENDSWITH"}

// operator reads a comparison operator if one follows: a symbol, or one of
// the words CONTAINS, BEGINSWITH, ENDSWITH.
func (p *parser) operator() (string, bool) {
	t := p.peek()
	if t.kind == tOp {
		p.next()
		return t.text, true
	}
	for _, w := range stringOps[2:] {
		if p.word(t, w) {
			p.next()
			return w, true
		}
	}
	return "", false
}

func (p *parser) condition(id token) (pred, error) {
	name := strings.ToLower(id.text)
	switch name {
	case "ok", "error", "fault", "throttle", "partial":
		return p.flag(id, name)
	case "duration", "responsetime", "http.status":
		return p.numberField(id, name)
	case "http.url", "http.method", "http.useragent", "http.clientip":
		return p.stringField(id, name)
	case "service":
		return p.service(id)
	}
	if strings.HasPrefix(name, "annotation.") {
		return p.annotation(id, id.text[len("annotation."):])
	}
	return nil, &filterError{id.pos, fmt.Sprintf("unknown keyword %q", id.text)}
}

func (p *parser) flag(id token, name string) (pred, error) {
	scope := p.scope
	get := func(s *summary) bool {
		err, fault, throttle := s.err, s.fault, s.throttle
		if scope != "" {
			f := s.service(scope)
			if f == nil {
				return false
			}
			err, fault, throttle = f.err, f.fault, f.throttle
		}
		switch name {
		case "ok":
			return !err && !fault && !throttle
		case "error":
			return err
		case "fault":
			return fault
		case "throttle":
			return throttle
		}
		return s.partial
	}
	t := p.peek()
	if t.kind != tOp {
		return get, nil
	}
	p.next()
	if t.text != "=" && t.text != "!=" {
		return nil, &filterError{t.pos, fmt.Sprintf("%s takes = or != with true or false, not %s", id.text, t.text)}
	}
	v := p.next()
	if !p.word(v, "true") && !p.word(v, "false") {
		return nil, &filterError{v.pos, fmt.Sprintf("expected true or false after %s %s, found %s", id.text, t.text, v)}
	}
	want := p.word(v, "true") == (t.text == "=")
	return func(s *summary) bool { return get(s) == want }, nil
}

func compareNumbers(op string, a, b float64) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	}
	return a >= b
}

func (p *parser) numberField(id token, name string) (pred, error) {
	op, ok := p.operator()
	if !ok || op != "=" && op != "!=" && op != "<" && op != "<=" && op != ">" && op != ">=" {
		t := p.toks[p.i-1]
		if !ok {
			t = p.peek()
		}
		return nil, &filterError{t.pos, fmt.Sprintf("%s needs a comparison (= != < <= > >=) with a number", id.text)}
	}
	v := p.next()
	if v.kind != tNumber {
		return nil, &filterError{v.pos, fmt.Sprintf("expected a number after %s %s, found %s", id.text, op, v)}
	}
	scope := p.scope
	return func(s *summary) bool {
		var x float64
		switch name {
		case "duration":
			x = s.duration
		case "responsetime":
			if !s.hasResponse {
				return false // an in-progress trace has no response time yet
			}
			x = s.responseTime
			if scope != "" {
				f := s.service(scope)
				if f == nil {
					return false
				}
				x = f.responseTime
			}
		default:
			if !s.http.hasStatus {
				return false
			}
			x = float64(s.http.status)
		}
		return compareNumbers(op, x, v.num)
	}, nil
}

func compareStrings(op, a, b string) bool {
	switch op {
	case "=":
		return a == b
	case "!=":
		return a != b
	case "CONTAINS":
		return strings.Contains(a, b)
	case "BEGINSWITH":
		return strings.HasPrefix(a, b)
	}
	return strings.HasSuffix(a, b)
}

func (p *parser) stringField(id token, name string) (pred, error) {
	op, ok := p.operator()
	if !ok || op == "<" || op == "<=" || op == ">" || op == ">=" {
		t := p.peek()
		if ok {
			t = p.toks[p.i-1]
		}
		return nil, &filterError{t.pos, fmt.Sprintf("%s needs = != CONTAINS BEGINSWITH or ENDSWITH with a string", id.text)}
	}
	v := p.next()
	if v.kind != tString {
		return nil, &filterError{v.pos, fmt.Sprintf("expected a string after %s %s, found %s", id.text, op, v)}
	}
	return func(s *summary) bool {
		var x string
		switch name {
		case "http.url":
			x = s.http.url
		case "http.method":
			x = s.http.method
		case "http.useragent":
			x = s.http.userAgent
		default:
			x = s.http.clientIP
		}
		return x != "" && compareStrings(op, x, v.text)
	}, nil
}

func validAnnotationKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !isIdentStart(c) && !isDigit(c) {
			return false
		}
	}
	return true
}

func (p *parser) annotation(id token, key string) (pred, error) {
	if !validAnnotationKey(key) {
		return nil, &filterError{id.pos, fmt.Sprintf("annotation key %q must be letters, digits and _", key)}
	}
	op, ok := p.operator()
	if !ok {
		return func(s *summary) bool { return len(s.annotation(key)) > 0 }, nil
	}
	opTok := p.toks[p.i-1]
	v := p.next()
	var match func(any) bool
	switch {
	case v.kind == tString:
		if op == "<" || op == "<=" || op == ">" || op == ">=" {
			return nil, &filterError{opTok.pos, fmt.Sprintf("%s compares strings with = != CONTAINS BEGINSWITH or ENDSWITH, not %s", id.text, op)}
		}
		match = func(a any) bool {
			x, ok := a.(string)
			if op == "!=" {
				return !ok || x != v.text
			}
			return ok && compareStrings(op, x, v.text)
		}
	case v.kind == tNumber:
		if op == "CONTAINS" || op == "BEGINSWITH" || op == "ENDSWITH" {
			return nil, &filterError{opTok.pos, fmt.Sprintf("%s needs a string", op)}
		}
		match = func(a any) bool {
			x, ok := a.(float64)
			if op == "!=" {
				return !ok || x != v.num
			}
			return ok && compareNumbers(op, x, v.num)
		}
	case p.word(v, "true") || p.word(v, "false"):
		if op != "=" && op != "!=" {
			return nil, &filterError{opTok.pos, fmt.Sprintf("%s compares booleans with = or !=, not %s", id.text, op)}
		}
		want := p.word(v, "true")
		match = func(a any) bool {
			x, ok := a.(bool)
			if op == "!=" {
				return !ok || x != want
			}
			return ok && x == want
		}
	default:
		return nil, &filterError{v.pos, fmt.Sprintf("expected a string, number, true or false after %s %s, found %s", id.text, op, v)}
	}
	// "!=" matches a trace that has the key and none of its values
	// equals the operand; the others match when any value does.
	if op == "!=" {
		return func(s *summary) bool {
			vals := s.annotation(key)
			for _, a := range vals {
				if !match(a.value) {
					return false
				}
			}
			return len(vals) > 0
		}, nil
	}
	return func(s *summary) bool {
		for _, a := range s.annotation(key) {
			if match(a.value) {
				return true
			}
		}
		return false
	}, nil
}

func (p *parser) service(id token) (pred, error) {
	if _, err := p.expect(tLParen, `"(" after service`); err != nil {
		return nil, err
	}
	name, err := p.expect(tString, "a quoted service name in service(...)")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen, `")" after the service name`); err != nil {
		return nil, err
	}
	has := func(s *summary) bool { return s.service(name.text) != nil }
	if p.peek().kind != tLBrace {
		return has, nil
	}
	if p.scope != "" {
		return nil, &filterError{p.peek().pos, "service(...) { } cannot be nested"}
	}
	p.next()
	p.scope = name.text
	inner, err := p.or()
	p.scope = ""
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRBrace, `"}" closing service(...) {`); err != nil {
		return nil, err
	}
	return func(s *summary) bool { return has(s) && inner(s) }, nil
}
