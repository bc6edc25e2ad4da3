package provision

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// task is one step of a walk: it runs once every task in after has
// succeeded. Tasks that need nothing of each other run at once.
type task struct {
	name  string
	after []*task
	// run does the step; nil is a step with nothing to do, which only
	// orders the tasks around it.
	run func(context.Context) error
	// skipped, if set, is called instead of run when a task in after
	// failed or was itself skipped; its error is the task's.
	skipped func() error
}

// runTasks runs the tasks, each as soon as all of its after have
// succeeded and all at once where nothing orders them. A task that fails
// stops every task that comes after it, directly or not, and lets the
// others finish, so a second walk picks up where this one stopped. The
// error joins every failed task's, in the order of tasks.
func runTasks(ctx context.Context, tasks []*task) error {
	type state struct {
		done chan struct{}
		ok   bool
		err  error
	}
	states := make(map[*task]*state, len(tasks))
	for _, t := range tasks {
		states[t] = &state{done: make(chan struct{})}
	}
	var wg sync.WaitGroup
	for _, t := range tasks {
		s := states[t]
		wg.Go(func() {
			defer close(s.done)
			for _, a := range t.after {
				as, ok := states[a]
				if !ok {
					panic("provision: task " + t.name + " comes after " + a.name + ", which is not in the walk")
				}
				<-as.done
				if !as.ok {
					if t.skipped != nil {
						s.err = t.skipped()
					}
					return
				}
			}
			if t.run != nil {
				s.err = t.run(ctx)
			}
			s.ok = s.err == nil
		})
	}
	wg.Wait()
	var errs []error
	for _, t := range tasks {
		errs = append(errs, states[t].err)
	}
	return errors.Join(errs...)
}

// node is one resource in the stack's graph, with the resources up must
// create before it.
type node struct {
	res   resource
	needs []*node
	// runsJobs marks the compute environment.
	runsJobs bool
	// usedByJobs marks what the jobs running in the compute environment
	// use: down removes it only once the compute environment is gone.
	usedByJobs bool
	// removedWith marks a resource that goes with the one holding it (the
	// job image with its repository): down has no step for it.
	removedWith bool
}

// order is the order of the walk forwards: by depth, and in the order
// given within a depth. Down walks it backwards.
func order(nodes []*node) []*node {
	out := slices.Clone(nodes)
	slices.SortStableFunc(out, func(a, b *node) int { return depth(a) - depth(b) })
	return out
}

// depth is the longest chain of needs below n.
func depth(n *node) int {
	d := 0
	for _, m := range n.needs {
		d = max(d, depth(m)+1)
	}
	return d
}

// dependents are the nodes that need n.
func dependents(nodes []*node, n *node) []*node {
	var out []*node
	for _, m := range nodes {
		for _, x := range m.needs {
			if x == n {
				out = append(out, m)
			}
		}
	}
	return out
}
