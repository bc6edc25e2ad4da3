// Package userdata builds the EC2 launch template user data that installs the
// tracing agent on the hosts of a batchxray compute environment: the AWS X-Ray
// daemon (the default, Params.Agent AgentXRayDaemon) or the Amazon CloudWatch
// agent (AgentCloudWatch), which outlives the daemon's end of support on
// 2027-02-25 and receives both X-Ray SDK segments on UDP 127.0.0.1:2000 and
// OTLP on 127.0.0.1:4317 and 4318, loopback only.
//
// AWS Batch merges a launch template's user data with its own, so the document
// must be a MIME multi-part archive with a blank line before every boundary;
// Build writes exactly that, around one shell script generated from an
// embedded template. The script downloads the daemon's RPM from the region's
// own bucket for the requested architecture, installs it with dnf or yum,
// optionally writes the daemon's config, and checks the service is active. It
// never stops the host from joining the ECS cluster: a failed install is
// logged and the jobs on that host simply run untraced. The CloudWatch agent
// script installs the amazon-cloudwatch-agent package from Amazon Linux 2023's
// repository, writes its traces configuration with the stack's region, and
// starts it with amazon-cloudwatch-agent-ctl, under the same rules.
//
// Build is deterministic (the MIME boundary is derived from the script), so
// `batchxray up` can compare the user data of an existing launch template with
// what it would build now; Parse reads a document back and says which
// parameters it was built with.
package userdata
