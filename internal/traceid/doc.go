// Package traceid holds batchxray's rules for X-Ray trace context: the
// trace ID and segment ID formats, the trace header, and the one rule by
// which an array child's trace ID derives from its parent's, used alike by
// `submit` (which tags the parent), `trace` (which fetches every child by
// ID) and the in-container job (which joins its child trace). It imports
// nothing of batchxray's.
//
// The child rule: a child keeps the parent's epoch part, and its 24-hex
// random part is the first 24 hex digits of SHA-256(parent's 24-hex part
// || ":" || decimal index). For parent 1-5d82881a-0a9126e92a73e971eed891b9
// child 3 hashes "0a9126e92a73e971eed891b9:3".
package traceid
