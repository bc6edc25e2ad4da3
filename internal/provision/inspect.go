package provision

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Found is one resource of the stack as Inspect read it.
type Found struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Present bool   `json:"present"`
	// NotOurs is a same-named resource without the stack's tag.
	NotOurs bool `json:"notOurs,omitempty"`
	// Status, StatusReason and State are Batch's, for the compute
	// environment and the job queue.
	Status       string `json:"status,omitempty"`
	StatusReason string `json:"statusReason,omitempty"`
	State        string `json:"state,omitempty"`
}

// Inspect reads every resource of the stack, changing nothing: what down
// would find (doctor's view of a stack). The error is the first read that
// failed.
func (p *Provisioner) Inspect(ctx context.Context) ([]Found, error) {
	var out []Found
	for _, n := range order(p.graph(Spec{})) {
		if n.removedWith {
			continue
		}
		r, err := n.res.find(ctx)
		var no *NotOursError
		if err != nil && !errors.As(err, &no) {
			return out, err
		}
		f := Found{Kind: n.res.kind(), Name: n.res.name(), Present: r.Action == Delete || r.Action == NotOurs, NotOurs: r.Action == NotOurs}
		switch res := n.res.(type) {
		case *computeEnvironment:
			if f.Present && res.found != nil {
				f.Status, f.StatusReason, f.State = string(res.found.Status), aws.ToString(res.found.StatusReason), string(res.found.State)
			}
		case *jobQueue:
			if f.Present && res.found != nil {
				f.Status, f.StatusReason, f.State = string(res.found.Status), aws.ToString(res.found.StatusReason), string(res.found.State)
			}
		}
		out = append(out, f)
	}
	return out, nil
}
