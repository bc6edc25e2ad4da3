package xray_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/sampling"
	xraysdk "github.com/aws/aws-xray-sdk-go/v2/xray"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	lxray "github.com/batchxray/batchxray/internal/localaws/xray"
)

const header = `{"format": "json", "version": 1}` + "\n"

// waitCtx bounds a wait for UDP traffic on loopback: generous, because it
// only ends a test that would otherwise hang.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSegmentsFromTheXRaySDK sends a job's segment through the X-Ray SDK's
// own emitter to the stand-in's daemon, and finds it again by its job_id
// annotation through the AWS SDK's X-Ray client.
func TestSegmentsFromTheXRaySDK(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	addr := srv.DaemonAddr()
	if addr == "" {
		t.Fatal("localawstest.Start did not start the daemon")
	}
	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	emitter, err := xraysdk.NewDefaultEmitter(udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	always, err := sampling.NewLocalizedStrategyFromJSONBytes([]byte(`{"version": 2, "default": {"fixed_target": 1, "rate": 1.0}}`))
	if err != nil {
		t.Fatal(err)
	}
	// Streaming every completed subsegment on its own makes the SDK send
	// them separately, as a long job does.
	streaming, err := xraysdk.NewDefaultStreamingStrategyWithMaxSubsegmentCount(1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := xraysdk.ContextWithConfig(context.Background(), xraysdk.Config{
		DaemonAddr: addr, Emitter: emitter, SamplingStrategy: always, StreamingStrategy: streaming,
	})
	if err != nil {
		t.Fatal(err)
	}

	const jobID = "6f1c2d3e-0000-4000-8000-000000000001"
	ctx, seg := xraysdk.BeginSegment(ctx, "BatchJob")
	if err := seg.AddAnnotation("job_id", jobID); err != nil {
		t.Fatal(err)
	}
	_ = seg.AddAnnotation("attempt", 1)
	for _, name := range []string{"download", "work", "upload"} {
		_, sub := xraysdk.BeginSubsegment(ctx, name)
		sub.Close(nil)
	}
	seg.Close(nil)
	traceID := seg.TraceID

	// Every document the daemon stores wakes the loop; it ends when the
	// trace is complete, or at the deadline.
	wait := waitCtx(t)
	var sums []types.TraceSummary
	for {
		seen := srv.XRay().Ingested()
		out, err := c.GetTraceSummaries(context.Background(), &xray.GetTraceSummariesInput{
			StartTime:        aws.Time(time.Now().Add(-time.Hour)),
			EndTime:          aws.Time(time.Now().Add(time.Hour)),
			FilterExpression: aws.String(`annotation.job_id = "` + jobID + `"`),
		})
		if err != nil {
			t.Fatal(err)
		}
		sums = out.TraceSummaries
		if len(sums) == 1 && !aws.ToBool(sums[0].IsPartial) {
			break
		}
		if err := srv.XRay().WaitIngested(wait, seen+1); err != nil {
			t.Fatalf("trace never complete (summaries %+v, daemon %+v): %v", sums, srv.Daemon().Stats(), err)
		}
	}
	if got := aws.ToString(sums[0].Id); got != traceID {
		t.Errorf("found trace %s, want %s", got, traceID)
	}
	if st := srv.Daemon().Stats(); st.Received < 2 || st.Dropped != 0 {
		t.Errorf("daemon stats %+v, want the subsegments streamed on their own and nothing dropped", st)
	}

	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{traceID}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 || len(out.Traces[0].Segments) != 1 {
		t.Fatalf("BatchGetTraces = %+v, want one trace of one segment", out.Traces)
	}
	var got struct {
		Name        string `json:"name"`
		Subsegments []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"subsegments"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Traces[0].Segments[0].Document)), &got); err != nil {
		t.Fatal(err)
	}
	// The SDK's streaming sometimes embeds a subsegment twice in the
	// segment it sends (same id): count each subsegment once.
	names := map[string]string{}
	for _, s := range got.Subsegments {
		names[s.ID] = s.Name
	}
	var list []string
	for _, n := range names {
		list = append(list, n)
	}
	if got.Name != "BatchJob" || !cmp.Equal([]string{"download", "upload", "work"}, sortedCopy(list)) {
		t.Errorf("segment %s with subsegments %v, want BatchJob with download, work, upload", got.Name, list)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestMalformedDatagramsAreCountedAndDropped(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	conn, err := net.Dial("udp", srv.DaemonAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	good := doc(traceID(1, 1), "00000000000000e1", "svc", base+1, base+2, nil)
	datagrams := []string{
		good,        // no header
		"",          // empty
		"\n" + good, // empty header
		`{"format": "xml", "version": 1}` + "\n" + good,                        // wrong format
		`{"format": "json", "version": 2}` + "\n" + good,                       // wrong version
		`{"format": "json"` + "\n" + good,                                      // header not JSON
		header + `{"name":`,                                                    // document not JSON
		header + doc(traceID(1, 2), "00000000000000e2", "svc", base+1, 0, nil), // refused: no end_time
		header,        // no document
		header + good, // the only good one, last
	}
	for _, d := range datagrams {
		if _, err := conn.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Daemon().WaitReceived(waitCtx(t), int64(len(datagrams))); err != nil {
		t.Fatal(err)
	}
	want := lxray.DaemonStats{Received: int64(len(datagrams)), Ingested: 1, Dropped: int64(len(datagrams) - 1)}
	if diff := cmp.Diff(want, srv.Daemon().Stats()); diff != "" {
		t.Errorf("daemon stats (-want +got):\n%s", diff)
	}
	if got := ids(summaries(t, c, &xray.GetTraceSummariesInput{})); !cmp.Equal([]string{traceID(1, 1)}, got) {
		t.Errorf("stored traces = %v, want only the good one", got)
	}
}

func TestDaemonServesSamplingOverTCP(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	if _, err := c.CreateSamplingRule(context.Background(), &xray.CreateSamplingRuleInput{SamplingRule: newRule("jobs")}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.DaemonAddr()

	// The X-Ray SDK's proxy sends exactly this body, unsigned, and decodes
	// the answer into its own types.
	resp, err := http.Post(base+"/GetSamplingRules", "application/json", strings.NewReader(`{"NextToken": null}`))
	if err != nil {
		t.Fatal(err)
	}
	var rules sampling.GetSamplingRulesOutput
	if err := json.NewDecoder(resp.Body).Decode(&rules); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GetSamplingRules over TCP: %d, %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	var names []string
	for _, r := range rules.SamplingRuleRecords {
		names = append(names, *r.SamplingRule.RuleName)
		if r.SamplingRule.FixedRate == nil || r.SamplingRule.Version == nil || r.SamplingRule.Priority == nil {
			t.Errorf("rule %s lacks a field the SDK requires: %+v", *r.SamplingRule.RuleName, r.SamplingRule)
		}
	}
	if diff := cmp.Diff([]string{"Default", "jobs"}, names); diff != "" {
		t.Errorf("rules over TCP (-want +got):\n%s", diff)
	}

	body, _ := json.Marshal(sampling.GetSamplingTargetsInput{SamplingStatisticsDocuments: []*sampling.SamplingStatisticsDocument{{
		RuleName: aws.String("jobs"), ClientID: aws.String("0123456789abcdef01234567"),
		RequestCount: aws.Int64(3), SampledCount: aws.Int64(3), BorrowCount: aws.Int64(0), Timestamp: aws.Int64(time.Now().Unix()),
	}}})
	resp, err = http.Post(base+"/SamplingTargets", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var targets sampling.GetSamplingTargetsOutput
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("SamplingTargets over TCP: %d, %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if len(targets.SamplingTargetDocuments) != 1 || *targets.SamplingTargetDocuments[0].FixedRate != 1 || *targets.SamplingTargetDocuments[0].ReservoirQuota != 5 {
		t.Errorf("targets over TCP = %+v", targets.SamplingTargetDocuments)
	}

	// The TCP port is a sampling proxy, not the whole API.
	resp, err = http.Post(base+"/TraceSummaries", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /TraceSummaries over the daemon's TCP: %d, want 404", resp.StatusCode)
	}
}

func TestDaemonAddressAndClose(t *testing.T) {
	srv := localaws.New(localaws.Options{})
	if got := srv.DaemonAddr(); got != "" {
		t.Errorf("DaemonAddr before start = %q, want empty", got)
	}
	addr, err := srv.StartDaemon("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if addr != srv.DaemonAddr() || strings.HasSuffix(addr, ":0") {
		t.Errorf("StartDaemon = %q, DaemonAddr = %q, want the same bound address", addr, srv.DaemonAddr())
	}
	if _, err := srv.StartDaemon("127.0.0.1:0"); err == nil {
		t.Error("a second StartDaemon succeeded, want an error")
	}
	_ = srv.Close()
	if got := srv.DaemonAddr(); got != "" {
		t.Errorf("DaemonAddr after Close = %q, want empty", got)
	}
	// Both ports are free again.
	if _, err := srv.StartDaemon(addr); err != nil {
		t.Errorf("restart on %s after Close: %v", addr, err)
	}
	_ = srv.Close()
}
