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
