package provision

import "context"

// resource is one AWS resource of the stack. Each lives in its own file
// with what it should be, and is driven by the walks of walk.go: up calls
// plan and, unless it is a dry run or nothing changes, apply; down calls
// find and then delete.
type resource interface {
	kind() string
	name() string
	// plan reads what is there and says what apply would do. A same-named
	// resource without the stack's tag is a NotOursError.
	plan(ctx context.Context) (Result, error)
	// apply makes the change plan found, from what plan read.
	apply(ctx context.Context) (Result, error)
	// find reads what down would delete: Absent, Delete, or a
	// NotOursError that stops what comes after it.
	find(ctx context.Context) (Result, error)
	// delete removes what find found (Action Delete). Not found is
	// success.
	delete(ctx context.Context) (Result, error)
	// outcome is the resource's last result, which the resources that
	// need it read once it is done.
	outcome() *Result
}

// drainer is a resource that must stop working before it is deleted (the
// compute environment is disabled), and can while what is in front of it
// is still being deleted.
type drainer interface {
	drain(ctx context.Context) error
}

// done is the outcome every resource keeps.
type done struct{ out Result }

func (d *done) outcome() *Result { return &d.out }
