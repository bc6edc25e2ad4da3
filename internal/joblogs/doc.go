// Package joblogs reads a Batch job's output from CloudWatch Logs. The log
// group comes from the job's awslogs configuration (its job definition's
// awslogs-group, or Batch's /aws/batch/job), and each attempt's stream from
// that attempt's logStreamName. Read pages through GetLogEvents with its
// forward tokens, stopping when a token comes back unchanged, so no line is
// lost or repeated across pages; --tail reads backwards from the end;
// following a running job moves on to each new attempt's stream and ends
// with the job's outcome. Last reads the end of one attempt's stream in a
// single call, for `trace` to show under a failed attempt.
package joblogs
