// Package waiter polls until a condition holds, in the shape of the AWS SDK's
// waiters: a minimum and maximum delay between polls with exponential
// backoff, a required maximum wait, an injectable clock, and a typed error
// when the wait runs out. AWS Batch has no SDK waiters, so batchxray's
// provisioning, job following and trace finding use this one; Backoff is
// the delay of every retry that is counted rather than timed.
package waiter
