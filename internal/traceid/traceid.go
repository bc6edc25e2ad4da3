package traceid

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// EnvVar is the environment variable that carries the trace header to a
// process, as the X-Ray SDKs and the OpenTelemetry X-Ray propagator read it.
const EnvVar = "_X_AMZN_TRACE_ID"

// New mints a trace ID in X-Ray's format, 1-<8 hex epoch seconds>-<24 hex
// random>, from now and random bytes read from r (crypto/rand when nil).
func New(now time.Time, r io.Reader) (string, error) {
	var b [12]byte
	if err := read(r, b[:]); err != nil {
		return "", fmt.Errorf("mint trace ID: %w", err)
	}
	return fmt.Sprintf("1-%08x-%s", uint32(now.Unix()), hex.EncodeToString(b[:])), nil
}

// NewSegmentID mints a segment ID: 16 hex digits from r (crypto/rand when
// nil).
func NewSegmentID(r io.Reader) (string, error) {
	var b [8]byte
	if err := read(r, b[:]); err != nil {
		return "", fmt.Errorf("mint segment ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func read(r io.Reader, b []byte) error {
	if r == nil {
		r = rand.Reader
	}
	_, err := io.ReadFull(r, b)
	return err
}

// Valid reports whether id is an X-Ray trace ID: 1-<8 hex>-<24 hex>.
func Valid(id string) bool {
	return len(id) == 35 && id[0] == '1' && id[1] == '-' && id[10] == '-' &&
		isHex(id[2:10]) && isHex(id[11:])
}

// ValidSegmentID reports whether id is a segment ID: 16 hex digits.
func ValidSegmentID(id string) bool { return len(id) == 16 && isHex(id) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Time is the epoch part of a valid trace ID: when it was minted, to the
// second.
func Time(id string) time.Time {
	sec, err := strconv.ParseUint(id[2:10], 16, 32)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(sec), 0).UTC()
}

// Child is the trace ID of the array child with this index, by the rule in
// the package doc.
func Child(parent string, index int) (string, error) {
	if !Valid(parent) {
		return "", fmt.Errorf("invalid trace ID %q: want 1-<8 hex>-<24 hex>", parent)
	}
	if index < 0 {
		return "", fmt.Errorf("invalid array index %d", index)
	}
	sum := sha256.Sum256([]byte(parent[11:] + ":" + strconv.Itoa(index)))
	return parent[:11] + hex.EncodeToString(sum[:])[:24], nil
}

// Header is the X-Ray trace header: Root=<trace ID>;Parent=<segment
// ID>;Sampled=1.
type Header struct {
	Root    string
	Parent  string
	Sampled bool
}

// String writes the header; Parent is left out when empty.
func (h Header) String() string {
	var b strings.Builder
	b.WriteString("Root=" + h.Root)
	if h.Parent != "" {
		b.WriteString(";Parent=" + h.Parent)
	}
	if h.Sampled {
		b.WriteString(";Sampled=1")
	} else {
		b.WriteString(";Sampled=0")
	}
	return b.String()
}

// Parse reads a trace header. It needs a valid Root; a Parent, when there,
// must be a segment ID. Fields it does not know are ignored, as X-Ray does.
func Parse(s string) (Header, error) {
	var h Header
	for _, part := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			h.Root = v
		case "Parent":
			h.Parent = v
		case "Sampled":
			h.Sampled = v == "1"
		}
	}
	switch {
	case !Valid(h.Root):
		return Header{}, fmt.Errorf("invalid trace header %q: no valid Root", s)
	case h.Parent != "" && !ValidSegmentID(h.Parent):
		return Header{}, fmt.Errorf("invalid trace header %q: Parent is no segment ID", s)
	}
	return h, nil
}

// ChildHeader is the header an array child joins, given the header its
// container received (the parent's: Batch gives every child the parent's
// environment) and its index. The child's trace is its own, with no parent
// segment: the submit segment is in the parent's trace.
func ChildHeader(parent string, index int) (string, error) {
	h, err := Parse(parent)
	if err != nil {
		return "", err
	}
	root, err := Child(h.Root, index)
	if err != nil {
		return "", err
	}
	return Header{Root: root, Sampled: h.Sampled}.String(), nil
}
