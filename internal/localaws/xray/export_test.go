package xray

// JobSegment is jobSegment for the external benchmarks.
var JobSegment = jobSegment
