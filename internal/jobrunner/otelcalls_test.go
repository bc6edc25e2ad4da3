package jobrunner

import (
	"context"
	"net"
	"net/http/httptest"
	"slices"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// spanNames are the names of spans, sorted.
func spanNames(spans []*tracepb.Span) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// An S3 call S3 refuses: the span is an error span with the status, so the
// mapping makes it an error (4xx), and it carries S3's request ID.
func TestOTelAWSCallRefused(t *testing.T) {
	d := startDaemon(t)
	rcv := startOTLP(t)
	origin, _ := startOrigin(t)
	s3 := httptest.NewServer(&fakeS3{status: 403})
	t.Cleanup(s3.Close)
	o := otelOptions(d, rcv, batchEnv...)
	o.URLs = []string{origin.URL + "/ok/page"}
	o.Bucket = "stack-bucket"
	o.AWSConfig = s3Config(t, s3.URL)
	if err := Run(context.Background(), o); exitCode(err) != 1 {
		t.Fatalf("err = %v, want a failure", err)
	}
	calls := rcv.named("S3.PutObject")
	if len(calls) != 1 {
		t.Fatalf("%d S3.PutObject spans, want 1", len(calls))
	}
	c := calls[0]
	if c.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || attr(c, "http.response.status_code").GetIntValue() != 403 {
		t.Errorf("status %v, http status %v: want an error span with 403", c.Status, attr(c, "http.response.status_code"))
	}
	if got := attr(c, "aws.request_id").GetStringValue(); got != "REQ-LOCAL-1" {
		t.Errorf("aws.request_id = %q, want S3's REQ-LOCAL-1", got)
	}
	if len(c.Events) == 0 || c.Events[0].Name != "exception" {
		t.Errorf("events %v, want the exception", c.Events)
	}
}

// Two fetches from one origin: the first dials and has a connect span with a
// dial under it; the second reuses the connection and, as with xray.Client,
// has none. A fetch from a closed port has a connect span that failed.
func TestOTelConnectionPhases(t *testing.T) {
	d := startDaemon(t)
	rcv := startOTLP(t)
	origin, _ := startOrigin(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/nothing"
	_ = l.Close()

	o := otelOptions(d, rcv, batchEnv...)
	o.URLs = []string{origin.URL + "/ok/a", origin.URL + "/ok/b", closed}
	o.NoUpload = true
	if err := Run(context.Background(), o); exitCode(err) != 1 {
		t.Fatalf("err = %v, want a failure (the closed port)", err)
	}
	var calls []*tracepb.Span
	for _, f := range rcv.named("fetch") {
		calls = append(calls, rcv.children(f)...)
	}
	slices.SortFunc(calls, func(a, b *tracepb.Span) int { return int(a.StartTimeUnixNano - b.StartTimeUnixNano) })
	if len(calls) != 3 {
		t.Fatalf("%d HTTP call spans, want 3", len(calls))
	}
	first := rcv.children(calls[0])
	if got := spanNames(first); !slices.Equal(got, []string{"connect", "request", "response"}) {
		t.Errorf("first call's children %v, want connect, request, response", got)
	}
	for _, c := range first {
		if got := spanNames(rcv.children(c)); c.Name == "connect" && !slices.Equal(got, []string{"dial"}) {
			t.Errorf("connect's children %v, want dial", got)
		}
	}
	if got := spanNames(rcv.children(calls[1])); !slices.Equal(got, []string{"request", "response"}) {
		t.Errorf("second call's children %v, want request and response (the connection reused)", got)
	}
	kids := rcv.children(calls[2])
	if got := spanNames(kids); !slices.Equal(got, []string{"connect"}) {
		t.Fatalf("the closed port's children %v, want connect", got)
	}
	if kids[0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("connect to a closed port: status %v, want an error (a fault)", kids[0].Status)
	}
	if dial := rcv.children(kids[0]); len(dial) != 1 || dial[0].Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("the failed dial: %v, want one error span", dial)
	}
}
