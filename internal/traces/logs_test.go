package traces

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/google/go-cmp/cmp"
)

// scriptedLogs answers GetLogEvents for the streams it was given, with the
// error given for the others, and keeps the streams it was asked for.
type scriptedLogs struct {
	events map[string][]string
	err    error
	asked  []string
}

func (s *scriptedLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	stream := aws.ToString(in.LogStreamName)
	s.asked = append(s.asked, stream)
	lines, ok := s.events[stream]
	if !ok {
		return nil, s.err
	}
	if n := int(aws.ToInt32(in.Limit)); len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := &cloudwatchlogs.GetLogEventsOutput{}
	for _, l := range lines {
		out.Events = append(out.Events, types.OutputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(0)})
	}
	return out, nil
}

func TestWithLogs(t *testing.T) {
	j, _ := retryJob()
	j.LogGroup = "/batchxray/demo"
	j.Attempts[0].LogStream, j.Attempts[1].LogStream = "s/one", "s/two"
	tests := []struct {
		name  string
		logs  *scriptedLogs
		lines int
		want  []AttemptLog
		asked []string
	}{
		{"the failed attempt only, its last lines", &scriptedLogs{events: map[string][]string{"s/one": {"a", "b", "c"}, "s/two": {"ok"}}}, 2,
			[]AttemptLog{{Attempt: 1, Lines: []string{"b", "c"}}}, []string{"s/one"}},
		{"a stream gone", &scriptedLogs{err: &types.ResourceNotFoundException{Message: aws.String("gone")}}, 5,
			[]AttemptLog{{Attempt: 1, Unreadable: "the log stream is gone"}}, []string{"s/one"}},
		{"turned off", &scriptedLogs{}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := withLogs(context.Background(), View{Job: j}, LookupOptions{Logs: tt.logs, LogLines: tt.lines})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, v.Logs); diff != "" {
				t.Errorf("logs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.asked, tt.logs.asked); diff != "" {
				t.Errorf("streams read (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := withLogs(ctx, View{Job: j}, LookupOptions{Logs: &scriptedLogs{err: context.Canceled}, LogLines: 5})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("withLogs: %v, want context.Canceled", err)
		}
	})
}
