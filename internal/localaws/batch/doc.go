// Package batch is the stand-in's AWS Batch: compute environments, job
// queues and job definitions with AWS's rules and error messages, and jobs
// that walk Batch's real states and run their container command as a local
// process of this machine, their output sent to CloudWatch Logs.
//
// A container starts as ECS starts it: for an image in the stand-in's own
// registry its argv follows Docker's rules and its executable must be in
// the image's filesystem (package imagefs), or the attempt fails with
// CannotStartContainerError. Its environment is Batch's and ECS's only, it
// is killed for exceeding its memory (OutOfMemoryError), and on Linux it
// dies with the stand-in, however the stand-in ends.
//
// Every delay and timestamp comes from the injected clock: a compute
// environment becomes VALID, a job moves from one state to the next, and a
// job attempt times out when the clock says so. Only the job's own process
// runs in real time.
package batch
