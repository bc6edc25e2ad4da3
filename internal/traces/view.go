package traces

import (
	"fmt"
	"strconv"
	"time"
)

// AllTraces are the view's own traces, then every child's, in order: what an
// export of the whole view (OTLP, --raw) holds.
func (v View) AllTraces() []*Trace {
	all := v.Traces
	for _, c := range v.Children {
		all = append(all[:len(all):len(all)], c.Traces...)
	}
	return all
}

// OptionError is a lookup or drawing option out of its range, named as the
// `trace` flag that sets it.
type OptionError struct {
	Flag, Value, Rule string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("invalid --%s %s: %s", e.Flag, e.Value, e.Rule)
}

// CheckOptions refuses, with an *OptionError, options no lookup or drawing
// can have: a negative wait, depth or minimum duration, or array index.
func CheckOptions(lo LookupOptions, o Options) error {
	switch {
	case lo.Wait < 0:
		return &OptionError{"wait", lo.Wait.String(), "must not be negative"}
	case o.Depth < 0:
		return &OptionError{"depth", strconv.Itoa(o.Depth), "must not be negative (0 draws every level)"}
	case o.MinDuration < 0:
		return &OptionError{"min-duration", o.MinDuration.String(), "must not be negative"}
	case lo.Index != nil && *lo.Index < 0:
		return &OptionError{"index", strconv.Itoa(*lo.Index), "array indexes start at 0"}
	case lo.LogLines < 0 || lo.LogLines > MaxLogLines:
		return &OptionError{"log-lines", strconv.Itoa(lo.LogLines), fmt.Sprintf("must be 0 (none) to %d", MaxLogLines)}
	}
	return nil
}

// DefaultWait is the short grace `trace` gives, by default, a job to end and
// X-Ray to index its traces: they appear seconds after the daemon flushes,
// sometimes longer.
const DefaultWait = 30 * time.Second
