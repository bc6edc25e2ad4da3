// Package doctor checks what an account and a stack need, before and after
// `batchxray up`: credentials and region, Batch's service-linked role, a
// usable network, the stack's resources and their states, and where X-Ray
// sends traces. Each check is one line, passed or failed, with what to do.
// It only reads: stack resources through provision's Inspect.
package doctor
