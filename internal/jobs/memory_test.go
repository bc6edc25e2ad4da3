package jobs

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
)

// TestFollowedJobsShareStrings: two children decoded apart (each string
// its own allocation, as the SDK's are) keep one copy of what they share,
// and a job's log stream is its last attempt's; the job ends with no
// spare room in its transitions.
func TestFollowedJobsShareStrings(t *testing.T) {
	fresh := func(id string) types.JobDetail {
		d := detail(id, types.JobStatusSucceeded, started(0), stopped(900, 0, exited), attempt(0, 900, 0, exited))
		for _, p := range []**string{&d.JobName, &d.JobQueue, &d.JobDefinition, &d.StatusReason, &d.Attempts[0].StatusReason, &d.Attempts[0].Container.LogStreamName} {
			*p = aws.String(strings.Clone(**p))
		}
		d.JobName = aws.String(strings.Clone("nightly"))
		d.Container.LogStreamName = aws.String(strings.Clone(*d.Attempts[0].Container.LogStreamName))
		return d
	}
	var a, b Job
	a.Update(fresh("a"), t0)
	b.Update(fresh("b"), t0)
	same := func(what, x, y string) {
		t.Helper()
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are two copies", what, x, y)
		}
	}
	same("name", a.Name, b.Name)
	same("queue", a.Queue, b.Queue)
	same("definition", a.Definition, b.Definition)
	same("status reason", a.StatusReason, b.StatusReason)
	same("attempt reason", a.Attempts[0].StatusReason, b.Attempts[0].StatusReason)
	same("log stream", a.LogStream, a.Attempts[0].LogStream)
	if len(a.Transitions) != cap(a.Transitions) {
		t.Errorf("transitions: len %d, cap %d; want no spare room", len(a.Transitions), cap(a.Transitions))
	}
}
