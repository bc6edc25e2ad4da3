package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/batchxray/batchxray/internal/doctor"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// doctor before up: the stack's line fails with what to do, exit 1; after
// up every line passes, exit 0, and --output json says so.
func TestDoctor(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: 10 * time.Millisecond})
	ctx := context.Background()
	f, out, _ := stackFactory(cfg, false, "")
	err := runDoctor(ctx, &doctorOptions{f: f})
	if exitCode(err) != exitError {
		t.Fatalf("doctor before up: %v (exit %d), want exit 1", err, exitCode(err))
	}
	if !strings.Contains(out.String(), "✗ stack cli: 0 of 15 resources; ") || !strings.Contains(out.String(), ": run `batchxray up`\n") || !strings.Contains(out.String(), "✓ credentials: account 000000000000") {
		t.Errorf("doctor before up printed:\n%s", out)
	}

	f, _, errOut := stackFactory(cfg, false, "")
	if err := runUp(ctx, upArgs(f)); err != nil {
		t.Fatalf("up: %v\n%s", err, errOut)
	}
	f, out, _ = stackFactory(cfg, false, "")
	if err := runDoctor(ctx, &doctorOptions{f: f}); err != nil {
		t.Fatalf("doctor after up: %v\n%s", err, out)
	}
	if strings.Contains(out.String(), "✗") || !strings.Contains(out.String(), "✓ compute environment cli-ce: VALID, ENABLED") {
		t.Errorf("doctor after up printed:\n%s", out)
	}
	if !strings.Contains(out.String(), "\n! tracing: agent xray-daemon (launch template cli-xray version 1), tracer xray (job definition cli-job:1): the X-Ray daemon and the X-Ray SDK reach AWS's end of support on 2027-02-25: run `batchxray up --agent cloudwatch --tracer otel`") {
		t.Errorf("doctor after up names no tracing, or no end of support:\n%s", out)
	}
	f, out, _ = stackFactory(cfg, false, "")
	f.Globals.Output = outputJSON
	if err := runDoctor(ctx, &doctorOptions{f: f}); err != nil {
		t.Fatal(err)
	}
	var r doctor.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || !r.OK || r.Stack != "cli" || len(r.Checks) < 7 {
		t.Errorf("doctor --output json: %v\n%s", err, out)
	}
	var tracing *doctor.Check
	for i, c := range r.Checks {
		if c.Name == "tracing" {
			tracing = &r.Checks[i]
		}
	}
	if tracing == nil || tracing.Agent != "xray-daemon" || tracing.Tracer != "xray" || tracing.EndOfSupport != "2027-02-25" || tracing.Warning == "" {
		t.Errorf("doctor --output json tracing check: %+v", tracing)
	}
}
