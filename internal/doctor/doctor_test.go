package doctor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/doctor"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/provision"
)

func byName(r doctor.Report) map[string]doctor.Check {
	m := map[string]doctor.Check{}
	for _, c := range r.Checks {
		m[c.Name] = c
	}
	return m
}

// Before up the stack is missing and doctor fails on it alone; after up
// every check passes, the compute environment and queue VALID and ENABLED.
func TestDoctorBeforeAndAfterUp(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
	ctx := context.Background()

	r := doctor.Run(ctx, cfg, "doc")
	if r.OK {
		t.Fatalf("doctor before up passed: %+v", r)
	}
	for _, c := range r.Checks {
		if c.OK == (c.Name == "stack doc") {
			t.Errorf("before up, %s: ok=%v (%s)", c.Name, c.OK, c.Detail)
		}
	}
	if c := byName(r)["stack doc"]; !strings.Contains(c.Detail, "missing: ") || c.Fix != "run `batchxray up`" {
		t.Errorf("stack check before up: %+v", c)
	}
	if n := len(srv.Calls()); n == 0 {
		t.Fatal("doctor made no calls")
	}
	for _, c := range srv.Calls() {
		if c.Mutating() {
			t.Errorf("doctor made a mutating call: %v", c)
		}
	}

	names, err := provision.NamesFor("doc", "000000000000", cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	spec := provision.Spec{Partition: "aws", Arch: "x86_64", InstanceTypes: []string{"optimal"}, MaxVCPUs: 4, JobVCPUs: 1,
		JobMemoryMiB: 512, JobTimeout: time.Hour, LogRetentionDays: 30, Image: "example.com/job:1"}
	if _, err := provision.New(cfg, names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}}).Up(ctx, spec, false); err != nil {
		t.Fatal(err)
	}
	r = doctor.Run(ctx, cfg, "doc")
	if !r.OK {
		t.Errorf("doctor after up failed: %+v", r.Checks)
	}
	m := byName(r)
	for _, name := range []string{"credentials", "Batch service-linked role", "network", "stack doc", "compute environment doc-ce", "job queue doc-queue", "X-Ray trace destination"} {
		if _, ok := m[name]; !ok {
			t.Errorf("no check %q: %+v", name, r.Checks)
		}
	}
	if c := m["compute environment doc-ce"]; c.Detail != "VALID, ENABLED: ComputeEnvironment Healthy" {
		t.Errorf("compute environment check: %+v", c)
	}
}

// An endpoint that does not implement a call fails that check alone, saying
// it could not check.
func TestDoctorWithoutTheTraceDestination(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{})
	srv.InjectFault("xray", "GetTraceSegmentDestination", awsproto.NotImplemented("xray", "GetTraceSegmentDestination"), -1)
	c := byName(doctor.Run(context.Background(), cfg, "doc"))["X-Ray trace destination"]
	if c.OK || c.Detail != "could not check (the endpoint does not implement XRay GetTraceSegmentDestination)" {
		t.Errorf("trace destination check: %+v", c)
	}
}

// doctor names the agent and tracer up recorded: after a default up the X-Ray
// daemon and SDK, passing with the end of support and the way off them;
// after up --agent cloudwatch --tracer otel those, with no warning. Before
// up there is nothing to name.
func TestDoctorNamesTheTracing(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
	ctx := context.Background()
	if c, ok := byName(doctor.Run(ctx, cfg, "trc"))["tracing"]; ok {
		t.Errorf("tracing check before up: %+v", c)
	}
	names, err := provision.NamesFor("trc", "000000000000", cfg.Region)
	if err != nil {
		t.Fatal(err)
	}
	p := provision.New(cfg, names, provision.Options{Waits: provision.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 10 * time.Second}})
	spec := provision.Spec{Partition: "aws", Arch: "x86_64", InstanceTypes: []string{"optimal"}, MaxVCPUs: 4, JobVCPUs: 1,
		JobMemoryMiB: 512, JobTimeout: time.Hour, LogRetentionDays: 30, Image: "example.com/job:1"}
	tests := []struct {
		agent, tracer          string
		wantAgent, wantTracer  string
		wantDetail, wantEndsAt string
	}{
		{"", "", "xray-daemon", "xray", "agent xray-daemon (launch template trc-xray version 1), tracer xray (job definition trc-job:1)", doctor.EndOfSupport},
		{"cloudwatch", "otel", "cloudwatch", "otel", "agent cloudwatch (launch template trc-xray version 2), tracer otel (job definition trc-job:2)", ""},
	}
	for _, tt := range tests {
		spec.Agent, spec.Tracer = tt.agent, tt.tracer
		if _, err := p.Up(ctx, spec, false); err != nil {
			t.Fatal(err)
		}
		r := doctor.Run(ctx, cfg, "trc")
		c, ok := byName(r)["tracing"]
		if !ok || !r.OK {
			t.Fatalf("up --agent %q --tracer %q: no tracing check, or a failed one: %+v", tt.agent, tt.tracer, r.Checks)
		}
		if !c.OK || c.Agent != tt.wantAgent || c.Tracer != tt.wantTracer || c.Detail != tt.wantDetail || c.EndOfSupport != tt.wantEndsAt {
			t.Errorf("up --agent %q --tracer %q: tracing check %+v", tt.agent, tt.tracer, c)
		}
		if hasWarning := c.Warning != ""; hasWarning != (tt.wantEndsAt != "") ||
			hasWarning && (!strings.Contains(c.Warning, "2027-02-25") || !strings.Contains(c.Warning, "batchxray up --agent cloudwatch --tracer otel")) {
			t.Errorf("up --agent %q --tracer %q: warning %q", tt.agent, tt.tracer, c.Warning)
		}
	}
}
