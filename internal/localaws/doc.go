// Package localaws is batchxray's local AWS stand-in: one HTTP endpoint that
// routes each request to a service by the service name in its SigV4
// credential scope and answers in that service's own wire protocol, so the
// unmodified AWS SDK talks to it. Each service lives in its own package below
// this one and keeps AWS's rules and error codes as AWS documents them.
//
// The stand-in imports none of batchxray's client packages: it encodes what
// AWS does, not what our client assumes, so a shared mistake cannot pass
// every test.
package localaws
