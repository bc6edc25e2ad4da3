// Package report looks at many Batch jobs at once, to find the bottlenecks
// of a workload rather than of one job: it gathers the jobs of a window from
// Batch, their states from the stack's recorded job events where it has
// them (package events; which also know the jobs Batch has forgotten), and
// their traces with traces.Finder (by ID, through StartTraceRetrieval where
// the account uses Transaction Search, else by search; batched, with
// bounded concurrency), works out the figures (outcomes, queue wait and run time, retries,
// failure reasons, subsegments by name, the slowest jobs) as a pure
// function of what it gathered, and renders them in the terminal, as JSON
// and as one self-contained HTML file. It also writes a trace as OTLP JSON.
//
// The models of the jobs and traces packages are read in one file,
// source.go, so that a change there is a change in one place here.
package report
