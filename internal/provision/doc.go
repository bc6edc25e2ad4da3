// Package provision creates, converges and removes a batchxray stack: the
// IAM roles, bucket, image repository, security group, launch template,
// sampling rule, log group, compute environment, job queue and job
// definition of DESIGN.md. Every name derives from the stack name in Names,
// every resource carries the stack's tag, and Down deletes only what carries
// it.
package provision
