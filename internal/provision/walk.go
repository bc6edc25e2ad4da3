package provision

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Up creates or converges every resource of the stack, walking its graph
// (graph in stack.go) forwards: each resource once what it needs is there,
// independent ones at once. The compute environment, Batch's slowest step,
// so waits for nothing it does not use: not the image, whose push can take
// minutes. With dryRun it only plans, and the results are the plan, in the
// order of the walk. A failure stops the resources that need it and lets
// the others finish, so re-running Up completes the stack and Down removes
// what was created.
func (p *Provisioner) Up(ctx context.Context, spec Spec, dryRun bool) ([]Result, error) {
	if err := ValidateRegion(p.region); err != nil {
		return nil, err
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	// The network is checked before anything is made: the user's, or the
	// default VPC, which many accounts do not have (ErrNoDefaultVPC).
	n, err := p.network(ctx, spec.Subnets)
	if err != nil {
		return nil, err
	}
	if spec.SecurityGroup != "" {
		if err := p.userGroup(ctx, spec.SecurityGroup, n); err != nil {
			return nil, err
		}
	}
	graph := p.graph(spec)
	for _, nd := range graph {
		if sg, ok := nd.res.(*securityGroup); ok {
			sg.net, sg.netKnown = n, true
		}
	}
	return p.up(ctx, graph, dryRun)
}

// up walks nodes forwards.
func (p *Provisioner) up(ctx context.Context, graph []*node, dryRun bool) ([]Result, error) {
	p.results = nil
	nodes := order(graph)
	tasks := map[*node]*task{}
	var all []*task
	for _, n := range nodes {
		t := &task{name: label(n.res), run: func(ctx context.Context) error { return p.upStep(ctx, n.res, dryRun) }}
		for _, m := range n.needs {
			t.after = append(t.after, tasks[m])
		}
		tasks[n] = t
		all = append(all, t)
	}
	err := runTasks(ctx, all)
	return p.sortedResults(nodes), err
}

// Steps are the resources of the stack in the order Up walks them: each
// step needs only the steps before it, and the resources of one step are
// worked on at once. Their Results hold the kind and name.
func (p *Provisioner) Steps(spec Spec) [][]Result {
	var steps [][]Result
	for _, n := range order(p.graph(spec)) {
		d := depth(n)
		for len(steps) <= d {
			steps = append(steps, nil)
		}
		steps[d] = append(steps[d], Result{Kind: n.res.kind(), Name: n.res.name()})
	}
	return steps
}

// upStep plans a resource and applies the plan. When another up of the
// stack made the resource between this plan and its apply, it is planned
// and applied again, from what is there now (twice at most: a profile
// can be created by the other up, then given its role by it).
func (p *Provisioner) upStep(ctx context.Context, r resource, dryRun bool) error {
	p.begin(r)
	var res Result
	var err error
	for range 3 {
		res, err = r.plan(ctx)
		res.Kind, res.Name = r.kind(), r.name()
		*r.outcome() = res
		if err == nil && !dryRun && res.Action != Unchanged && res.Action != Skipped {
			res, err = r.apply(ctx)
		}
		if !alreadyExists(err) {
			break
		}
		p.log.Debug("made by someone else meanwhile; planning again", "resource", label(r), "err", err)
	}
	return p.end(r, res, err)
}

// alreadyExists tells an error each service gives a create whose
// resource is already there.
func alreadyExists(err error) bool {
	switch errorCode(err) {
	case "EntityAlreadyExists", "BucketAlreadyOwnedByYou", "RepositoryAlreadyExistsException",
		"InvalidGroup.Duplicate", "InvalidLaunchTemplateName.AlreadyExistsException", "ResourceAlreadyExistsException":
		return true
	case "InvalidRequestException", "ClientException":
		return strings.Contains(err.Error(), "already exists")
	case "LimitExceeded":
		// An instance profile holds one role: the other up added it.
		return strings.Contains(err.Error(), "InstanceSessionsPerInstanceProfile")
	}
	return false
}

// Down deletes every resource of the stack that carries the stack's tag,
// walking the graph backwards: a resource once everything that needs it
// is gone. It first reads the whole stack at once, so a queue that is not
// the stack's stops the compute environment behind it before anything is
// changed. What the jobs use (job definition, bucket, repository, log
// group, sampling rule) goes only once the compute environment is gone,
// and IAM after what it serves, or the environment is stranded INVALID.
// The compute environment is disabled while the queue in front of it is
// deleted. A resource that is not there is success; a same-named resource
// without the tag is left alone, reported, and makes Down return an error
// once everything else is removed.
func (p *Provisioner) Down(ctx context.Context) ([]Result, error) {
	return p.down(ctx, p.graph(Spec{}))
}

// down walks nodes backwards.
func (p *Provisioner) down(ctx context.Context, graph []*node) ([]Result, error) {
	p.results = nil
	nodes := order(graph)
	type downTasks struct {
		find, drain, remove *task
		found               Result
		started             bool
	}
	ts := map[*node]*downTasks{}
	var ce *node
	for _, n := range nodes {
		if n.runsJobs {
			ce = n
		}
		d := &downTasks{remove: &task{name: "delete " + label(n.res)}}
		ts[n] = d
		if n.removedWith {
			continue
		}
		d.find = &task{name: "find " + label(n.res), run: func(ctx context.Context) error {
			r, err := n.res.find(ctx)
			if err != nil {
				p.begin(n.res)
				return p.end(n.res, r, err)
			}
			r.Kind, r.Name = n.res.kind(), n.res.name()
			d.found, *n.res.outcome() = r, r
			return nil
		}}
		start := func() {
			if !d.started {
				d.started = true
				p.begin(n.res)
			}
		}
		if dr, ok := n.res.(drainer); ok {
			d.drain = &task{name: "drain " + label(n.res), run: func(ctx context.Context) error {
				if d.found.Action != Delete {
					return nil
				}
				start()
				if err := dr.drain(ctx); err != nil {
					return p.end(n.res, Result{}, err)
				}
				return nil
			}}
		}
		d.remove.run = func(ctx context.Context) error {
			start()
			r, err := d.found, error(nil)
			if r.Action == Delete {
				r, err = n.res.delete(ctx)
			}
			return p.end(n.res, r, err)
		}
		d.remove.skipped = func() error {
			if !d.started {
				return nil
			}
			var front []string
			for _, m := range dependents(nodes, n) {
				front = append(front, "the "+m.res.kind())
			}
			return p.end(n.res, Result{}, fmt.Errorf("left disabled, not deleted: %s in front of it is still there", strings.Join(front, " and ")))
		}
	}
	var all []*task
	for _, n := range slices.Backward(nodes) {
		d := ts[n]
		if d.find != nil {
			d.remove.after = append(d.remove.after, d.find)
			all = append(all, d.find)
		}
		deps := dependents(nodes, n)
		if d.drain != nil {
			d.drain.after = append(d.drain.after, d.find)
			for _, m := range deps {
				if f := ts[m].find; f != nil {
					d.drain.after = append(d.drain.after, f)
				}
			}
			d.remove.after = append(d.remove.after, d.drain)
			all = append(all, d.drain)
		}
		for _, m := range deps {
			d.remove.after = append(d.remove.after, ts[m].remove)
		}
		if n.usedByJobs && ce != nil {
			d.remove.after = append(d.remove.after, ts[ce].remove)
		}
		all = append(all, d.remove)
	}
	err := runTasks(ctx, all)
	rs := p.sortedResults(nodes)
	slices.Reverse(rs)
	return rs, err
}

func label(r resource) string { return r.kind() + " " + r.name() }

// begin starts a resource's step.
func (p *Provisioner) begin(r resource) {
	p.observe(Event{Result: Result{Kind: r.kind(), Name: r.name()}})
}

// end ends a resource's step, keeps its result, and returns its error
// prefixed with the resource.
func (p *Provisioner) end(r resource, res Result, err error) error {
	res.Kind, res.Name = r.kind(), r.name()
	// A NotOursError names its resource already.
	var no *NotOursError
	if err != nil && !errors.As(err, &no) {
		err = fmt.Errorf("%s %s: %w", res.Kind, res.Name, err)
	}
	*r.outcome() = res
	p.observe(Event{Result: res, Done: true, Err: err})
	// A failed step has no result, but a resource left alone as not ours
	// is one.
	if err == nil || res.Action == NotOurs {
		p.mu.Lock()
		p.results = append(p.results, res)
		p.mu.Unlock()
	}
	return err
}

// sortedResults are the results in the order of the walk forwards.
func (p *Provisioner) sortedResults(nodes []*node) []Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := slices.Clone(p.results)
	index := func(r Result) int {
		return slices.IndexFunc(nodes, func(n *node) bool { return n.res.kind() == r.Kind && n.res.name() == r.Name })
	}
	slices.SortStableFunc(rs, func(a, b Result) int { return index(a) - index(b) })
	return rs
}
