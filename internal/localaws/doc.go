// Package localaws is batchxray's local AWS stand-in: one HTTP endpoint that
// routes each request to a service by the service name in its SigV4
// credential scope and answers in that service's own wire protocol, so the
// unmodified AWS SDK talks to it. Each service lives in its own package below
// this one and keeps AWS's rules and error codes as AWS documents them.
//
// It runs the commands it is sent, so it answers only requests to a
// loopback address or localhost (unless Options.AllowRemote) and only
// SigV4-signed or presigned AWS requests, with any key.
//
// The stand-in imports none of batchxray's client packages: it encodes what
// AWS does, not what our client assumes, so a shared mistake cannot pass
// every test.
package localaws
