package traces

// Summary counts what a set of traces holds. Every span is counted in
// exactly one class, the worst it carries: fault, then throttle, then error,
// else ok (a 429 is both an error and a throttle; it counts as a throttle).
type Summary struct {
	Traces     int `json:"traces"`
	Spans      int `json:"spans"`
	OK         int `json:"ok"`
	Errors     int `json:"errors"`
	Faults     int `json:"faults"`
	Throttles  int `json:"throttles"`
	InProgress int `json:"inProgress"`
	// Services are the services seen, in the order of their first span:
	// each segment's own service, and the target of each remote call (the
	// AWS service, or the host of an HTTP call).
	Services []ServiceCount `json:"services"`
}

// ServiceCount is the outcome of the spans of one service, classed as in
// Summary.
type ServiceCount struct {
	Name      string `json:"name"`
	OK        int    `json:"ok"`
	Errors    int    `json:"errors"`
	Faults    int    `json:"faults"`
	Throttles int    `json:"throttles"`
}

// Failed is the number of spans that did not go well.
func (s Summary) Failed() int { return s.Errors + s.Faults + s.Throttles }

// class is where a span is counted.
type class int

const (
	classOK class = iota
	classError
	classThrottle
	classFault
)

func classOf(s *Span) class {
	switch {
	case s.Fault:
		return classFault
	case s.Throttle:
		return classThrottle
	case s.Error:
		return classError
	}
	return classOK
}

func (c class) add(ok, errs, faults, throttles *int) {
	switch c {
	case classFault:
		*faults++
	case classThrottle:
		*throttles++
	case classError:
		*errs++
	default:
		*ok++
	}
}

// Summarize counts the spans of the traces.
func Summarize(traces []*Trace) Summary {
	sum := Summary{Traces: len(traces), Services: []ServiceCount{}}
	at := map[string]int{}
	for _, t := range traces {
		t.Walk(func(s *Span, depth int) {
			if s.Inferred && depth > 0 {
				return // counted as its calling subsegment
			}
			sum.Spans++
			c := classOf(s)
			c.add(&sum.OK, &sum.Errors, &sum.Faults, &sum.Throttles)
			if s.InProgress {
				sum.InProgress++
			}
			name := ""
			switch {
			case s.Remote():
				name = s.Service
			case s.Segment:
				name = s.Name
			}
			if name == "" {
				return
			}
			i, ok := at[name]
			if !ok {
				i = len(sum.Services)
				at[name] = i
				sum.Services = append(sum.Services, ServiceCount{Name: name})
			}
			sc := &sum.Services[i]
			c.add(&sc.OK, &sc.Errors, &sc.Faults, &sc.Throttles)
		})
	}
	return sum
}
