// Package events reads a Batch job's transitions from the recorded
// "Batch Job State Change" events that the stack's EventBridge rule sends
// to the log group /batchxray/<stack>/events: each state's start and every
// statusReason it had, which DescribeJobs does not keep. Read finds a job's
// events (and its array children's) with FilterLogEvents; Apply puts them
// on a jobs.Job as its transitions.
package events
