package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clockLog records what ran and when, in a synctest bubble's time since
// the start.
type clockLog struct {
	mu    sync.Mutex
	start time.Time
	calls []string
}

func newClockLog() *clockLog { return &clockLog{start: time.Now()} }

func (l *clockLog) add(what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, fmt.Sprintf("%s@%s", what, time.Since(l.start)))
}

func (l *clockLog) sorted() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(slices.Values(l.calls))
}

func TestRunTasksRunsIndependentTasksAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newClockLog()
		step := func(name string) func(context.Context) error {
			return func(context.Context) error {
				log.add(name)
				time.Sleep(time.Second)
				return nil
			}
		}
		a := &task{name: "a", run: step("a")}
		b := &task{name: "b", run: step("b")}
		c := &task{name: "c", after: []*task{a, b}, run: step("c")}
		d := &task{name: "d", after: []*task{c}, run: step("d")}
		e := &task{name: "e", after: []*task{a}} // orders only
		f := &task{name: "f", after: []*task{e}, run: step("f")}
		if err := runTasks(context.Background(), []*task{d, c, b, a, e, f}); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(log.start); got != 3*time.Second {
			t.Errorf("the walk took %s, want 3s: a and b at once, then c, then d", got)
		}
		if diff := cmp.Diff([]string{"a@0s", "b@0s", "c@1s", "d@2s", "f@1s"}, log.sorted()); diff != "" {
			t.Errorf("starts (-want +got):\n%s", diff)
		}
	})
}

func TestRunTasksFailureStopsWhatComesAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newClockLog()
		boom := errors.New("boom")
		a := &task{name: "a", run: func(context.Context) error { log.add("a"); time.Sleep(time.Second); return boom }}
		b := &task{name: "b", after: []*task{a}, run: func(context.Context) error { log.add("b"); return nil },
			skipped: func() error { log.add("b skipped"); return nil }}
		c := &task{name: "c", after: []*task{b}, run: func(context.Context) error { log.add("c"); return nil },
			skipped: func() error { log.add("c skipped"); return errors.New("c left") }}
		d := &task{name: "d", run: func(context.Context) error { time.Sleep(2 * time.Second); log.add("d"); return nil }}
		err := runTasks(context.Background(), []*task{a, b, c, d})
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "c left") {
			t.Errorf("err = %v, want a's and what c's skip said", err)
		}
		if diff := cmp.Diff([]string{"a@0s", "b skipped@1s", "c skipped@1s", "d@2s"}, log.sorted()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})
}

// fakeResource is a resource whose every call takes a second of the
// bubble's time and is logged.
type fakeResource struct {
	done
	k   string
	log *clockLog
	// found is what find says; failOn names a call that fails.
	found  Result
	failOn string
}

func (f *fakeResource) kind() string { return f.k }
func (f *fakeResource) name() string { return "n" }

func (f *fakeResource) call(what string, res Result) (Result, error) {
	f.log.add(what + " " + f.k)
	time.Sleep(time.Second)
	switch {
	case f.failOn == what:
		return Result{}, errors.New(what + " failed")
	case res.Action == NotOurs:
		return res, &NotOursError{f.k, "n", "s"}
	}
	return res, nil
}

func (f *fakeResource) plan(context.Context) (Result, error) {
	return f.call("plan", Result{Action: Create})
}
func (f *fakeResource) apply(context.Context) (Result, error) {
	return f.call("apply", Result{Action: Create})
}
func (f *fakeResource) find(context.Context) (Result, error) { return f.call("find", f.found) }
func (f *fakeResource) delete(context.Context) (Result, error) {
	return f.call("delete", Result{Action: Delete})
}

type fakeDrainer struct{ fakeResource }

func (f *fakeDrainer) drain(context.Context) error {
	_, err := f.call("drain", Result{})
	return err
}

// fakeStack is the stack's shape in small: a role, the profile holding it,
// the compute environment using the profile, the queue in front of it, and
// a bucket the jobs use.
func fakeStack(log *clockLog) (nodes []*node, res map[string]*fakeResource) {
	res = map[string]*fakeResource{}
	mk := func(k string) *fakeResource {
		r := &fakeResource{k: k, log: log, found: Result{Action: Delete}}
		res[k] = r
		return r
	}
	ce := &fakeDrainer{fakeResource{k: "ce", log: log, found: Result{Action: Delete}}}
	res["ce"] = &ce.fakeResource
	role := &node{res: mk("role")}
	profile := &node{res: mk("profile"), needs: []*node{role}}
	ceNode := &node{res: ce, runsJobs: true, needs: []*node{profile}}
	queue := &node{res: mk("queue"), needs: []*node{ceNode}}
	bucket := &node{res: mk("bucket"), usedByJobs: true}
	return []*node{queue, ceNode, bucket, profile, role}, res
}

func testProvisioner() *Provisioner { return &Provisioner{observe: func(Event) {}} }

func TestUpWalksTheGraphForwards(t *testing.T) {
	for _, dryRun := range []bool{false, true} {
		t.Run(fmt.Sprintf("dryRun=%v", dryRun), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				log := newClockLog()
				nodes, _ := fakeStack(log)
				rs, err := testProvisioner().up(context.Background(), nodes, dryRun)
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"apply bucket@1s", "apply ce@5s", "apply profile@3s", "apply queue@7s", "apply role@1s",
					"plan bucket@0s", "plan ce@4s", "plan profile@2s", "plan queue@6s", "plan role@0s"}
				if dryRun {
					want = []string{"plan bucket@0s", "plan ce@2s", "plan profile@1s", "plan queue@3s", "plan role@0s"}
				}
				if diff := cmp.Diff(want, log.sorted()); diff != "" {
					t.Errorf("calls (-want +got):\n%s", diff)
				}
				var kinds []string
				for _, r := range rs {
					kinds = append(kinds, r.Kind)
				}
				// The order of the walk: by depth, then as given.
				if diff := cmp.Diff([]string{"bucket", "role", "profile", "ce", "queue"}, kinds); diff != "" {
					t.Errorf("results (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestDownWalksTheGraphBackwards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newClockLog()
		nodes, _ := fakeStack(log)
		rs, err := testProvisioner().down(context.Background(), nodes)
		if err != nil {
			t.Fatal(err)
		}
		// Everything is read at once; the compute environment drains while
		// the queue goes; what the jobs use and IAM wait for it.
		want := []string{
			"delete bucket@3s", "delete ce@2s", "delete profile@3s", "delete queue@1s", "delete role@4s",
			"drain ce@1s",
			"find bucket@0s", "find ce@0s", "find profile@0s", "find queue@0s", "find role@0s",
		}
		if diff := cmp.Diff(want, log.sorted()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		var kinds []string
		for _, r := range rs {
			kinds = append(kinds, r.Kind+" "+string(r.Action))
		}
		if diff := cmp.Diff([]string{"queue delete", "ce delete", "profile delete", "role delete", "bucket delete"}, kinds); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
	})
}

func TestDownStopsAtAQueueThatIsNotTheStacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newClockLog()
		nodes, res := fakeStack(log)
		res["queue"].found = Result{Action: NotOurs}
		rs, err := testProvisioner().down(context.Background(), nodes)
		var no *NotOursError
		if !errors.As(err, &no) || no.Kind != "queue" {
			t.Fatalf("err = %v, want the queue's NotOursError", err)
		}
		want := []string{"find bucket@0s", "find ce@0s", "find profile@0s", "find queue@0s", "find role@0s"}
		if diff := cmp.Diff(want, log.sorted()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if len(rs) != 1 || rs[0].Action != NotOurs {
			t.Errorf("results %v, want the queue's alone", rs)
		}
	})
}

func TestDownLeavesTheComputeEnvironmentDisabledWhenTheQueueStays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := newClockLog()
		nodes, res := fakeStack(log)
		res["queue"].failOn = "delete"
		rs, err := testProvisioner().down(context.Background(), nodes)
		if err == nil || !strings.Contains(err.Error(), "delete failed") || !strings.Contains(err.Error(), "ce n: left disabled, not deleted: the queue in front of it is still there") {
			t.Fatalf("err = %v", err)
		}
		want := []string{"delete queue@1s", "drain ce@1s", "find bucket@0s", "find ce@0s", "find profile@0s", "find queue@0s", "find role@0s"}
		if diff := cmp.Diff(want, log.sorted()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if len(rs) != 0 {
			t.Errorf("results %v, want none", rs)
		}
	})
}
