// Package jobrunner is the job that runs inside the AWS Batch container and
// produces its trace: it opens the job's segment, annotates it with what
// Batch says about the job, then either does the sample work (an HTTP GET of
// each URL and an S3 PutObject of what came back, each step a subsegment) or
// runs the user's own command as a child under a subsegment, passing it the
// trace header. When the job's environment carries the trace header submit
// decided (_X_AMZN_TRACE_ID), each attempt's segment is a segment of that
// trace under submit's; otherwise the job starts a trace of its own.
//
// A Batch job can run for hours and be killed without warning (SIGKILL for
// memory, a Spot reclaim), so nothing is held to the end: the segment is
// sent in progress as soon as it is annotated, every step as soon as it
// ends, and the complete segment last, replacing the in-progress one. It
// closes every subsegment and the segment, also on SIGTERM, and it exits
// with the job's outcome.
//
// Tracing sits behind the small tracer interface, with two implementations
// producing the same spans: the X-Ray SDK for Go (the default, to the daemon
// over UDP; in maintenance since 2026-02-25, end of support 2027-02-25) and
// OpenTelemetry (Options.Tracer "otel": OTLP over HTTP to the host's
// CloudWatch agent, or SigV4-signed to X-Ray's OTLP endpoint, with X-Ray's
// trace IDs and header, and the annotation keys listed in
// aws.xray.annotations). OTLP carries finished spans only, so the
// OpenTelemetry tracer sends no in-progress root; its finished steps leave
// in the background as the job runs, and its root carries the count of the
// spans exported under it (the attribute batchxray.subsegments), as the
// X-Ray SDK's complete segment counts its subsegments, so that `trace`
// knows when X-Ray holds them all. Its HTTP and AWS SDK spans carry what
// AWS's OpenTelemetry-to-X-Ray mapping needs to give the X-Ray SDK's
// subsegments (http.host, rpc.service, the connection's phases), so both
// tracers draw the same waterfall (TestSameWaterfallEitherTracer).
package jobrunner
