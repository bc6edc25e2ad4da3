// Package traces finds the X-Ray traces of an AWS Batch job, turns their
// documents into a tree of spans, puts them next to the job's Batch
// lifecycle, and draws both in the terminal: a header, one lifecycle track
// per attempt (a failed one with the last lines of its output), a waterfall
// on the same time axis (or, where its spans would be too narrow there, on
// each segment's own, labelled), and a one-line service map. For an array
// parent it draws a table of the children instead.
//
// Lookup is the use case `trace` runs: describe the job, follow it until it
// ends (within the wait), describe an array's children, count the traces to
// expect, find them, hand each child its own, and for a job that has ended
// wait until X-Ray returns each trace whole: every attempt's segment
// complete unless Batch killed the attempt, with the subsegments its
// segment counts, whichever tracer wrote the count (X-Ray indexes each
// document on its own, so a trace read moments after the job ended can
// lack some).
//
// Finding (Finder) queries GetTraceSummaries on the job's annotation over
// windows of at most a day around the job, fetches with BatchGetTraces, and
// when nothing is there says why in a NotFoundError.
//
// Drawing (Render) is a pure function of its input, the width, the colour
// switch and the clock, so every output is byte-exact in a golden file. The
// drawing knows nothing of cobra and takes no AWS SDK types: the job is
// jobs.Job, the one model of a Batch job every command shares, and the
// documents come in as the strings BatchGetTraces returns.
package traces
