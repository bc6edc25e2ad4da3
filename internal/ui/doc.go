// Package ui holds batchxray's terminal plumbing: the IO streams with their
// per-stream TTY detection, the colour decision, the semantic styles every
// renderer uses, and the one live-redraw engine (Live) that the spinner
// (Progress) and the job followers draw with. Nothing here knows about AWS.
package ui
