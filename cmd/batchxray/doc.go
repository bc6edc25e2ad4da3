// Command batchxray gives AWS Batch jobs end-to-end AWS X-Ray tracing: it
// provisions a Batch stack whose hosts run the X-Ray daemon, submits and
// follows jobs, draws a job's trace in the terminal, tears the stack down, is
// itself the traced job inside the container, and serves a local AWS
// stand-in so all of it runs without an account.
//
// This package holds only the cobra commands, their wiring, and the mapping
// of errors to exit codes; the work lives in the internal packages.
package main
