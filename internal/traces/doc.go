// Package traces turns the X-Ray documents of an AWS Batch job into a tree of
// spans, puts them next to the job's Batch lifecycle, and draws both in the
// terminal: a header, one lifecycle track per attempt, a waterfall on the
// same time axis, and a one-line service map. For an array parent it draws a
// table of the children instead.
//
// Drawing is a pure function of its input, the width, the colour switch and
// the clock, so every output is byte-exact in a golden file. The package
// knows nothing of cobra and its rendering API takes no AWS SDK types: the
// command maps Batch's JobDetail to Job and hands over the documents of
// BatchGetTraces as strings.
package traces
