package jobrunner

import (
	"fmt"
	"regexp"
	"strings"
)

// traceHeaderEnv carries the trace the job joins: submit puts it in the
// job's environment, and the job puts it in a wrapped command's.
const traceHeaderEnv = "_X_AMZN_TRACE_ID"

// traceHeader is the part of an X-Ray trace header
// (Root=1-…;Parent=…;Sampled=1) the job acts on.
type traceHeader struct {
	TraceID  string
	ParentID string
	// Sampled is "1", "0" or "" when the header leaves the decision to us.
	Sampled string
}

var (
	traceIDRE  = regexp.MustCompile(`^1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	spanIDRE   = regexp.MustCompile(`^[0-9a-f]{16}$`)
	sampledVal = map[string]bool{"0": true, "1": true, "?": true}
)

// parseTraceHeader reads an X-Ray trace header. Root and Parent are both
// required: a job's segment hangs under the submit segment named by Parent,
// and a header without one would start a second root in the same trace.
// Keys other than Root, Parent and Sampled are ignored, as X-Ray does.
func parseTraceHeader(s string) (traceHeader, error) {
	var h traceHeader
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Root":
			h.TraceID = v
		case "Parent":
			h.ParentID = v
		case "Sampled":
			h.Sampled = v
		}
	}
	switch {
	case !traceIDRE.MatchString(h.TraceID):
		return traceHeader{}, fmt.Errorf("invalid %s %q: Root is not a trace ID 1-<8 hex>-<24 hex>", traceHeaderEnv, s)
	case !spanIDRE.MatchString(h.ParentID):
		return traceHeader{}, fmt.Errorf("invalid %s %q: Parent is not a segment ID of 16 hex digits", traceHeaderEnv, s)
	case h.Sampled != "" && !sampledVal[h.Sampled]:
		return traceHeader{}, fmt.Errorf("invalid %s %q: Sampled is not 0 or 1", traceHeaderEnv, s)
	}
	if h.Sampled == "?" {
		h.Sampled = ""
	}
	return h, nil
}
