package jobrunner

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// submitHeader is the trace header submit puts in the job's environment.
const (
	submitTrace  = "1-6a1f2b3c-0123456789abcdef01234567"
	submitParent = "53995c3f42cd8ad8"
	submitHeader = "Root=" + submitTrace + ";Parent=" + submitParent + ";Sampled=1"
)

// Each attempt of a job submitted with a trace header is one segment of
// that trace, under submit's segment, and a wrapped command joins it too.
func TestJoinsTheSubmittedTrace(t *testing.T) {
	d := startDaemon(t)
	var ids []string
	for _, attempt := range []string{"1", "2"} {
		o := baseOptions(d, "AWS_BATCH_JOB_ID=job-1", "AWS_BATCH_JOB_ATTEMPT="+attempt, traceHeaderEnv+"="+submitHeader)
		o.Command = []string{"sh", "-c", `printf '%s' "$_X_AMZN_TRACE_ID"`}
		if err := Run(context.Background(), o); err != nil {
			t.Fatalf("attempt %s: %v", attempt, err)
		}
		tr := d.trace(t)
		if tr.root.TraceID != submitTrace || tr.root.ParentID != submitParent {
			t.Errorf("attempt %s: root in trace %s under %q, want trace %s under %s", attempt, tr.root.TraceID, tr.root.ParentID, submitTrace, submitParent)
		}
		if tr.root.Type != "" {
			t.Errorf("attempt %s: root has type %q, want a segment", attempt, tr.root.Type)
		}
		if len(tr.inProgress) != 1 || tr.inProgress[0].ParentID != submitParent {
			t.Errorf("attempt %s: in-progress documents %+v, want one under %s", attempt, tr.inProgress, submitParent)
		}
		sub := tr.named("sh")[0]
		if got, want := o.Stdout.(*syncBuffer).String(), "Root="+submitTrace+";Parent="+sub.ID+";Sampled=1"; got != want {
			t.Errorf("attempt %s: the command got %q, want %q", attempt, got, want)
		}
		if !strings.Contains(o.Stderr.(*syncBuffer).String(), "trace "+submitTrace+" (joined from _X_AMZN_TRACE_ID)") {
			t.Errorf("attempt %s: stderr does not say the job joined the trace:\n%s", attempt, o.Stderr)
		}
		ids = append(ids, tr.root.ID)
	}
	if ids[0] == ids[1] {
		t.Errorf("both attempts sent segment %s, want one segment each", ids[0])
	}
}

func TestTraceHeaderFromSubmit(t *testing.T) {
	tests := []struct {
		name, header string
		wantNew      bool   // the job starts its own trace
		wantWarn     string // on stderr
		wantSent     bool
	}{
		{name: "sampled", header: submitHeader, wantSent: true},
		{name: "no decision leaves it to the sample rate", header: "Root=" + submitTrace + ";Parent=" + submitParent, wantSent: true},
		{name: "not sampled", header: "Root=" + submitTrace + ";Parent=" + submitParent + ";Sampled=0"},
		{name: "malformed root", header: "Root=1-abc;Parent=" + submitParent + ";Sampled=1", wantNew: true, wantSent: true, wantWarn: "Root is not a trace ID"},
		{name: "no parent", header: "Root=" + submitTrace + ";Sampled=1", wantNew: true, wantSent: true, wantWarn: "Parent is not a segment ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := startDaemon(t)
			o := baseOptions(d, append(batchEnv, traceHeaderEnv+"="+tc.header)...)
			o.Command = []string{"true"}
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			stderr := o.Stderr.(*syncBuffer).String()
			if tc.wantWarn != "" && !strings.Contains(stderr, "warning: invalid _X_AMZN_TRACE_ID") || !strings.Contains(stderr, tc.wantWarn) {
				t.Errorf("stderr does not warn %q:\n%s", tc.wantWarn, stderr)
			}
			if !tc.wantSent {
				if !strings.Contains(stderr, "is not sampled") {
					t.Errorf("stderr does not say the job is not sampled:\n%s", stderr)
				}
				return
			}
			tr := d.trace(t)
			if joined := tr.root.TraceID == submitTrace; joined == tc.wantNew {
				t.Errorf("root in trace %s; joined the header's = %v, want %v", tr.root.TraceID, joined, !tc.wantNew)
			}
		})
	}
}

// A long job's trace is on its way while it runs: the root, in progress,
// with its annotations as soon as the job starts, and each finished step
// before the next one ends. The second fetch waits until the test has
// received the first one, so a job that held its steps until the end
// would never get there.
func TestStreamsWhileRunning(t *testing.T) {
	d := startDaemon(t)
	srv, origin := startOrigin(t)
	o := baseOptions(d, batchEnv...)
	o.URLs = []string{srv.URL + "/ok/first", srv.URL + "/gate"}
	o.NoUpload = true
	var once sync.Once
	release := func() { once.Do(func() { close(origin.gate) }) }
	t.Cleanup(release) // a failure below must not leave the job waiting
	done := make(chan error, 1)
	go func() { done <- Run(context.Background(), o) }()

	ip, _ := d.next(t)
	if !ip.InProgress || ip.Type != "" || ip.EndTime != 0 {
		t.Fatalf("first document %s in_progress=%v type %q end_time %v, want the root in progress", ip.Name, ip.InProgress, ip.Type, ip.EndTime)
	}
	if ip.Annotations["job_id"] != "job-1" {
		t.Errorf("in-progress root annotations %v, want job_id job-1 so a running job is found", ip.Annotations)
	}
	first, _ := d.next(t)
	if first.Name != "fetch" || first.Type != "subsegment" || first.ParentID != ip.ID || first.TraceID != ip.TraceID || first.InProgress {
		t.Fatalf("second document %s type %q parent %s in_progress=%v, want the first fetch, complete, under %s", first.Name, first.Type, first.ParentID, first.InProgress, ip.ID)
	}
	if len(first.Subsegments) == 0 {
		t.Errorf("the streamed fetch lacks its HTTP call's subsegments")
	}
	release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	second, _ := d.next(t)
	root, _ := d.next(t)
	if second.Name != "fetch" || second.ID == first.ID || second.ParentID != ip.ID {
		t.Errorf("third document %s (%s) under %s, want the second fetch under %s", second.Name, second.ID, second.ParentID, ip.ID)
	}
	if root.ID != ip.ID || root.InProgress || root.EndTime == 0 {
		t.Errorf("last document %s in_progress=%v end_time %v, want the complete root %s", root.ID, root.InProgress, root.EndTime, ip.ID)
	}
	if len(root.Subsegments) != 0 {
		t.Errorf("the complete root carries %d subsegments already sent", len(root.Subsegments))
	}
	// The root neither embeds nor lists them now: it counts every
	// subsegment of its tree, so a reader knows when every one is there.
	want := 0
	var count func(d *xdoc)
	count = func(d *xdoc) {
		want++
		for _, c := range d.Subsegments {
			count(c)
		}
	}
	count(first)
	count(second)
	if n := root.Metadata[metadataNamespace][subsegmentsKey]; n != float64(want) {
		t.Errorf("the complete root counts %v subsegments (metadata %v), want the %d sent", n, root.Metadata, want)
	}
	if n, ok := ip.Metadata[metadataNamespace][subsegmentsKey]; ok {
		t.Errorf("the in-progress root counts %v subsegments, want no count before the end", n)
	}
}
