package xray_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	xraysvc "github.com/batchxray/batchxray/internal/localaws/xray"
)

func TestTraceRetrieval(t *testing.T) {
	ctx := context.Background()
	// Transaction Search indexing nothing: only a retrieval finds traces.
	clock, c, _ := startClock(t, localaws.Options{XRay: xraysvc.Config{
		Destination: "CloudWatchLogs", IndexingPercentage: 0.0001, RetrievalDelay: 10 * time.Second}})
	tr := traceID(1, 1)
	put(t, c, doc(tr, "d000000000000001", "job", base+1, base+3, map[string]any{
		"annotations": map[string]any{"job_id": "j"},
		"subsegments": []any{map[string]any{"id": "d000000000000002", "name": "DynamoDB", "namespace": "aws", "start_time": base + 1.5, "end_time": base + 1.6,
			"aws": map[string]any{"table_name": "t", "operation": "GetItem"}}},
	}))
	if ok, _ := found(t, c, tr); ok {
		t.Fatal("the trace is indexed; the test needs one that is not")
	}
	startRetrieval := func(ids []string, from, to float64) string {
		t.Helper()
		out, err := c.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{TraceIds: ids,
			StartTime: aws.Time(time.Unix(int64(from), 0)), EndTime: aws.Time(time.Unix(int64(to), 0))})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.RetrievalToken)
	}
	list := func(token string, format types.TraceFormatType) *xray.ListRetrievedTracesOutput {
		t.Helper()
		out, err := c.ListRetrievedTraces(ctx, &xray.ListRetrievedTracesInput{RetrievalToken: aws.String(token), TraceFormat: format})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	unknown := traceID(2, 2)
	token := startRetrieval([]string{tr, unknown}, base, base+60)
	if out := list(token, ""); out.RetrievalStatus != types.RetrievalStatusScheduled || len(out.Traces) != 0 {
		t.Errorf("at once: %s with %d traces, want SCHEDULED and none", out.RetrievalStatus, len(out.Traces))
	}
	if g, err := c.GetRetrievedTracesGraph(ctx, &xray.GetRetrievedTracesGraphInput{RetrievalToken: aws.String(token)}); err != nil ||
		g.RetrievalStatus != types.RetrievalStatusScheduled || len(g.Services) != 0 {
		t.Errorf("graph at once: %+v, %v, want SCHEDULED and empty", g, err)
	}
	clock.Advance(time.Second)
	if out := list(token, ""); out.RetrievalStatus != types.RetrievalStatusRunning || len(out.Traces) != 0 {
		t.Errorf("after 1 s: %s with %d traces, want RUNNING and none", out.RetrievalStatus, len(out.Traces))
	}
	clock.Advance(9 * time.Second)
	out := list(token, "")
	if out.RetrievalStatus != types.RetrievalStatusComplete || out.TraceFormat != types.TraceFormatTypeXray || len(out.Traces) != 1 {
		t.Fatalf("after 10 s: %+v, want COMPLETE in XRAY with one trace", out)
	}
	got := out.Traces[0]
	if aws.ToString(got.Id) != tr || aws.ToFloat64(got.Duration) != 2 || len(got.Spans) != 2 {
		t.Fatalf("retrieved trace = %+v, want %s of 2 s: its segment and the inferred DynamoDB one", got, tr)
	}
	var inferred struct {
		Origin   string `json:"origin"`
		ParentID string `json:"parent_id"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(got.Spans[1].Document)), &inferred); err != nil || inferred.Origin != "AWS::DynamoDB::Table" || inferred.ParentID != "d000000000000002" {
		t.Errorf("second span = %s, want the inferred DynamoDB segment", aws.ToString(got.Spans[1].Document))
	}

	otel := list(token, types.TraceFormatTypeOtel)
	var names []string
	for _, s := range otel.Traces[0].Spans {
		var span struct{ Name, Kind string }
		if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &span); err != nil {
			t.Fatal(err)
		}
		names = append(names, span.Name+" "+span.Kind)
	}
	if diff := cmp.Diff([]string{"job SERVER", "DynamoDB CLIENT"}, names); diff != "" || otel.TraceFormat != types.TraceFormatTypeOtel {
		t.Errorf("OTEL spans (-want +got):\n%s", diff)
	}

	t.Run("graph", func(t *testing.T) {
		g, err := c.GetRetrievedTracesGraph(ctx, &xray.GetRetrievedTracesGraphInput{RetrievalToken: aws.String(token)})
		if err != nil {
			t.Fatal(err)
		}
		type edge struct{ From, To string }
		var names []string
		var edges []edge
		byRef := map[int32]string{}
		for _, s := range g.Services {
			byRef[aws.ToInt32(s.Service.ReferenceId)] = aws.ToString(s.Service.Name)
		}
		for _, s := range g.Services {
			names = append(names, aws.ToString(s.Service.Name)+" "+aws.ToString(s.Service.Type)+fmt.Sprintf(" root=%v", aws.ToBool(s.Service.Root)))
			for _, e := range s.Service.Edges {
				edges = append(edges, edge{aws.ToString(s.Service.Name), byRef[aws.ToInt32(e.ReferenceId)]})
			}
		}
		if diff := cmp.Diff([]string{"job  root=true", "DynamoDB AWS::DynamoDB::Table root=false"}, names); diff != "" || g.RetrievalStatus != types.RetrievalStatusComplete {
			t.Errorf("graph services (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]edge{{"job", "DynamoDB"}}, edges); diff != "" {
			t.Errorf("graph edges (-want +got):\n%s", diff)
		}
	})
	t.Run("outside the time range", func(t *testing.T) {
		token := startRetrieval([]string{tr}, base+10, base+60)
		clock.Advance(10 * time.Second)
		if out := list(token, ""); out.RetrievalStatus != types.RetrievalStatusComplete || len(out.Traces) != 0 {
			t.Errorf("%s with %d traces, want COMPLETE and none", out.RetrievalStatus, len(out.Traces))
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		token := startRetrieval([]string{tr}, base, base+60)
		if _, err := c.CancelTraceRetrieval(ctx, &xray.CancelTraceRetrievalInput{RetrievalToken: aws.String(token)}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Second)
		if out := list(token, ""); out.RetrievalStatus != types.RetrievalStatusCancelled || len(out.Traces) != 0 {
			t.Errorf("%s with %d traces, want CANCELLED and none", out.RetrievalStatus, len(out.Traces))
		}
		if _, err := c.CancelTraceRetrieval(ctx, &xray.CancelTraceRetrievalInput{RetrievalToken: aws.String(token)}); errorCode(err) != "InvalidRequestException" {
			t.Errorf("cancel twice: %v, want InvalidRequestException", err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		now := aws.Time(clock.Now())
		for name, tt := range map[string]struct {
			call func() error
			code string
		}{
			"no trace IDs": {func() error {
				_, err := c.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{TraceIds: []string{}, StartTime: now, EndTime: now})
				return err
			}, "InvalidRequestException"},
			"bad trace ID": {func() error {
				_, err := c.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{TraceIds: []string{"abc"}, StartTime: now, EndTime: now})
				return err
			}, "InvalidRequestException"},
			"end before start": {func() error {
				_, err := c.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{TraceIds: []string{tr}, StartTime: now, EndTime: aws.Time(clock.Now().Add(-time.Hour))})
				return err
			}, "InvalidRequestException"},
			"unknown token": {func() error {
				_, err := c.ListRetrievedTraces(ctx, &xray.ListRetrievedTracesInput{RetrievalToken: aws.String("nope")})
				return err
			}, "ResourceNotFoundException"},
			"cancel unknown": {func() error {
				_, err := c.CancelTraceRetrieval(ctx, &xray.CancelTraceRetrievalInput{RetrievalToken: aws.String("nope")})
				return err
			}, "ResourceNotFoundException"},
		} {
			if err := tt.call(); errorCode(err) != tt.code {
				t.Errorf("%s: %v, want %s", name, err, tt.code)
			}
		}
	})
}
