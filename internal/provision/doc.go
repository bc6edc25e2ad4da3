// Package provision creates, converges and removes a batchxray stack: the
// IAM roles, bucket, image repository, security group, launch template,
// sampling rule, log group, compute environment, job queue and job
// definition of DESIGN.md. Every name derives from the stack name in Names,
// every resource carries the stack's tag, and Down deletes only what carries
// it.
//
// Each resource is one file holding what it should be and how it is
// planned, applied, found and deleted (resource.go). stack.go says what
// each needs; the runner of graph.go walks that graph forwards for Up and
// backwards for Down (walk.go), independent resources at once.
package provision
