// Package image builds the job image without Docker and pushes it: an empty
// base holding the batchxray binary for the compute environment's
// architecture and a CA bundle, with `batchxray job` as its command. The tag
// is the binary's digest, so an unchanged binary pushes nothing.
package image
