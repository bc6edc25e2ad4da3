// Package jobs submits AWS Batch jobs to a stack's queue and follows them to
// the end. It holds the lifecycle model every command shares (Job, built from
// Batch's JobDetail by FromDetail, with durations per state from Batch's
// timestamps and the transitions seen while polling), the job waiter in
// SDK-waiter form, DescribeJobs batched by 100, the explanation of a job stuck
// in RUNNABLE, and the pure rendering of the live line, transition lines and
// summaries. Follow is the use case `status` and `submit --wait` share: look
// the jobs up, wait for them with a live line (ui.Live) or transition lines,
// explain a long RUNNABLE once, and name a failed array's failed children;
// a History (the recorded job events) then fills in each job's recorded
// transitions, and StatesFrom says which source the figures come from.
package jobs
