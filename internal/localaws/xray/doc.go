// Package xray is the stand-in's AWS X-Ray: the REST-JSON API (segments in,
// trace summaries and traces out, sampling rules and targets, the segment
// destination and indexing rule, trace retrievals), OTLP/HTTP trace exports
// at /v1/traces, and the host's side: the X-Ray daemon's listeners (UDP for
// segment documents, TCP for the sampling calls the X-Ray SDKs make through
// the daemon) and the agent's OTLP/HTTP receiver.
//
// Traces are kept in memory, indexed by the epoch in their trace ID so that
// a time window query reads only the traces inside it. Filter expressions
// are parsed by a small recursive-descent parser into predicates evaluated
// against a summary computed once per ingested document.
//
// As on AWS, a trace is indexed a delay after its documents arrive
// (Config.IndexDelay): GetTraceSummaries sees it once its first documents
// are indexed, BatchGetTraces returns each document once it is (a replaced
// document's earlier version until then). BatchGetTraces adds the inferred
// segments X-Ray builds for the AWS and remote services subsegments call.
// With the destination CloudWatchLogs (Transaction Search), every segment
// is also written as spans to the aws/spans log group, only the Default
// indexing rule's share of traces (decided once per trace) is indexed, and
// StartTraceRetrieval and ListRetrievedTraces read any trace from the spans.
// OTLP spans become segments by AWS's OpenTelemetry-to-X-Ray mapping
// (otlpmap.go).
package xray
