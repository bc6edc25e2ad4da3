// Package ui holds batchxray's terminal plumbing: the IO streams with their
// per-stream TTY detection, the colour decision, and the semantic styles every
// renderer uses. Nothing here knows about AWS.
package ui
