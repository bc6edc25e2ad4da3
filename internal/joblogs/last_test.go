package joblogs

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
)

func TestLast(t *testing.T) {
	s := startStandIn(t, localaws.Options{})
	id := s.run(t, 1, "sh", "-c", "seq 1 8; exit 3")
	j, err := describe(context.Background(), s.batch, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		n    int
		want []string
	}{{3, []string{"6", "7", "8"}}, {1, []string{"8"}}, {100, numbers(1, 8)}} {
		s.logs.calls.Store(0)
		got, err := Last(context.Background(), s.logs, j, 1, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, messages(got)); diff != "" {
			t.Errorf("Last(%d) (-want +got):\n%s", tt.n, diff)
		}
		if n := s.logs.calls.Load(); n != 1 {
			t.Errorf("Last(%d) made %d GetLogEvents calls, want 1", tt.n, n)
		}
	}

	t.Run("no container", func(t *testing.T) {
		_, err := Last(context.Background(), s.logs, j, 2, 3)
		var ns *NoStreamError
		if !errors.As(err, &ns) {
			t.Errorf("Last of attempt 2: %v, want a NoStreamError", err)
		}
	})
	t.Run("stream gone", func(t *testing.T) {
		_, err := s.logs.DeleteLogStream(context.Background(), &cloudwatchlogs.DeleteLogStreamInput{
			LogGroupName: aws.String(j.LogGroup), LogStreamName: aws.String(j.Attempts[0].LogStream)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Last(context.Background(), s.logs, j, 1, 3)
		var ue *UnreadableError
		if !errors.As(err, &ue) || ue.Why != "the log stream is gone" {
			t.Errorf("Last of a deleted stream: %v, want an UnreadableError saying the stream is gone", err)
		}
	})
}

// deniedLogs refuses GetLogEvents as IAM does, and keeps what it was asked.
type deniedLogs struct {
	in []*cloudwatchlogs.GetLogEventsInput
}

func (d *deniedLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	d.in = append(d.in, in)
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized to perform: logs:GetLogEvents"}
}

func TestLastDenied(t *testing.T) {
	d := &deniedLogs{}
	j := &jobs.Job{ID: "j1", Status: jobs.Failed, LogGroup: "/batchxray/demo", Attempts: []jobs.Attempt{{LogStream: "batchxray/default/abc"}}}
	_, err := Last(context.Background(), d, j, 1, 5)
	var ue *UnreadableError
	if !errors.As(err, &ue) || ue.Why != "no permission to read it (logs:GetLogEvents)" {
		t.Errorf("Last: %v, want an UnreadableError saying there is no permission", err)
	}
	if len(d.in) != 1 {
		t.Fatalf("GetLogEvents calls = %d, want 1", len(d.in))
	}
	in := d.in[0]
	if aws.ToString(in.LogGroupName) != "/batchxray/demo" || aws.ToString(in.LogStreamName) != "batchxray/default/abc" ||
		aws.ToBool(in.StartFromHead) || aws.ToInt32(in.Limit) != 5 {
		t.Errorf("GetLogEvents asked %+v, want the attempt's stream from its end, limit 5", in)
	}
}
