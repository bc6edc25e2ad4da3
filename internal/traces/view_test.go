package traces

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/jobs"
)

func TestAllTraces(t *testing.T) {
	a, b, c := &Trace{ID: "a"}, &Trace{ID: "b"}, &Trace{ID: "c"}
	v := View{Traces: []*Trace{a}, Children: []ChildTrace{{Traces: []*Trace{b}}, {}, {Traces: []*Trace{c}}}}
	var ids []string
	for _, t := range v.AllTraces() {
		ids = append(ids, t.ID)
	}
	diff(t, "all traces", []string{"a", "b", "c"}, ids)
	if len(v.Traces) != 1 {
		t.Errorf("AllTraces changed the view's own traces: %d", len(v.Traces))
	}
}

func TestCheckOptions(t *testing.T) {
	neg := -1
	tests := []struct {
		lo   LookupOptions
		o    Options
		want string
	}{
		{LookupOptions{Wait: time.Second, Index: new(int)}, Options{Depth: 1}, ""},
		{LookupOptions{Wait: -time.Second}, Options{}, "invalid --wait -1s: must not be negative"},
		{LookupOptions{}, Options{Depth: -1}, "invalid --depth -1: must not be negative (0 draws every level)"},
		{LookupOptions{}, Options{MinDuration: -time.Millisecond}, "invalid --min-duration -1ms: must not be negative"},
		{LookupOptions{Index: &neg}, Options{}, "invalid --index -1: array indexes start at 0"},
	}
	for _, tt := range tests {
		got := ""
		if err := CheckOptions(tt.lo, tt.o); err != nil {
			got = err.Error()
		}
		diff(t, fmt.Sprintf("%+v %+v", tt.lo, tt.o), tt.want, got)
	}
}

func TestExplain(t *testing.T) {
	err := Explain(fmt.Errorf("describe: %w", &jobs.NotFoundError{IDs: []string{"x"}}), "eu-west-1")
	diff(t, "unknown job", `job "x" not found in eu-west-1: Batch keeps finished jobs for about 7 days; check the ID and --region`, err.Error())
	if _, ok := errors.AsType[*jobs.NotFoundError](err); !ok {
		t.Error("the explained error does not unwrap to the jobs.NotFoundError")
	}
	nf := &NotFoundError{JobID: "x", Reason: ReasonNeverStarted, Status: jobs.Runnable}
	diff(t, "no trace", nf.Error()+"\n"+nf.Hint(), Explain(nf, "us-east-1").Error())
	other := errors.New("boom")
	if Explain(other, "us-east-1") != other {
		t.Error("another error was changed")
	}
}
