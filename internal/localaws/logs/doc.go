// Package logs is the stand-in's CloudWatch Logs: log groups and streams with
// their tags and retention, and the events PutLogEvents stores and
// GetLogEvents and FilterLogEvents read back, over the JSON 1.1 protocol
// (X-Amz-Target Logs_20140328.<Operation>). It keeps the limits CloudWatch
// Logs documents (batch size and order, the 2-hour and 14-day windows, the
// allowed retention periods) with the service's own error codes.
//
// Write is the seam the stand-in's Batch uses to store a job's output, as
// the awslogs driver does on a real host.
package logs
