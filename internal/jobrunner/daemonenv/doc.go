// Package daemonenv keeps AWS_XRAY_DAEMON_ADDRESS out of sight of the X-Ray
// SDK while the SDK's xray package initialises.
//
// The SDK parses the variable in a package-level initialiser and panics on a
// malformed value, resolving host names through DNS on the way. batchxray is
// one binary, so that would crash, or slow down, every command, `up` and
// `submit` included, before main runs. This package, which imports nothing
// but os, is initialised first (Go initialises, at each step, the first
// package by import path whose imports are all ready; the SDK's xray package
// waits for net/http and gRPC, whose paths sort after ours): it unsets the
// variable, and jobrunner, which imports the SDK and so is initialised after
// it, calls Restore. From main on, the environment is what the user set; the
// job validates the value itself before it builds its tracer.
package daemonenv
