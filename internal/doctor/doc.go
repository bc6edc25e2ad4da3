// Package doctor checks what an account and a stack need, before and after
// `batchxray up`: credentials and region, Batch's service-linked role, a
// usable network, the stack's resources and their states, the stack's
// tracing agent and tracer (with the X-Ray daemon's and SDK's end of
// support, 2027-02-25, as a warning), and where X-Ray sends traces. Each
// check is one line, passed or failed, with what to do. It only reads:
// stack resources through provision's Inspect, the agent from the launch
// template's user data, the tracer from the job definition.
package doctor
