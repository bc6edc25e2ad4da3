// Package jobrunner is the job that runs inside the AWS Batch container and
// produces its trace: it opens the job's segment, annotates it with what
// Batch says about the job, then either does the sample work (an HTTP GET of
// each URL and an S3 PutObject of what came back, each step a subsegment) or
// runs the user's own command as a child under a subsegment, passing it the
// trace header. It closes every subsegment and the segment, also on SIGTERM,
// so the daemon receives one complete trace, and it exits with the job's
// outcome.
//
// Tracing sits behind the small tracer interface: the X-Ray SDK for Go, in
// maintenance since 2026, implements it today, and an OTLP exporter can
// replace it without touching the job.
package jobrunner
