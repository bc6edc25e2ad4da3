// Package xray is the stand-in's AWS X-Ray: the REST-JSON API (segments in,
// trace summaries and traces out, sampling rules and targets, the segment
// destination) and the X-Ray daemon's listeners, UDP for segment documents
// and TCP for the sampling calls the X-Ray SDKs make through the daemon.
//
// Traces are kept in memory, indexed by the epoch in their trace ID so that
// a time window query reads only the traces inside it. Filter expressions
// are parsed by a small recursive-descent parser into predicates evaluated
// against a summary computed once per ingested document.
package xray
