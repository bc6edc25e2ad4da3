// Package events reads Batch jobs' transitions from the recorded
// "Batch Job State Change" events that the stack's EventBridge rule sends
// to the log group /batchxray/<stack>/events: each state's start and every
// statusReason it had, which DescribeJobs does not keep, and jobs Batch no
// longer returns. Read finds a job's events (and its array children's)
// with FilterLogEvents; Apply puts them on a jobs.Job as its transitions;
// Log is the jobs.History that status and trace fill their jobs from; List
// and Table are `batchxray jobs`, the stack's jobs from the events merged
// with ListJobs.
//
// An event's time has whole seconds, as EventBridge writes it, so a state
// whose start Batch keeps no timestamp for (PENDING, RUNNABLE, STARTING)
// is known to the second; RUNNING and the end come from the detail's own
// startedAt and stoppedAt, to the millisecond.
package events
