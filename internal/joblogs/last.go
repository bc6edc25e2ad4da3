package joblogs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/batchxray/batchxray/internal/jobs"
)

// UnreadableError is an attempt's log stream that could not be read; Why
// says so in a few words (no permission, the stream is gone).
type UnreadableError struct {
	Group, Stream string
	Why           string
	Err           error
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("read log stream %s of %s: %s", e.Stream, e.Group, e.Why)
}

func (e *UnreadableError) Unwrap() error { return e.Err }

// Last returns the last n lines (at most pageLimit) of one attempt of j,
// from 1, with a single GetLogEvents call from the end of its stream: the
// end of a failed attempt's output, which `trace` shows under it. A stream
// is found as Read finds it. An attempt that ran no container is a
// *NoStreamError; a stream that cannot be read an *UnreadableError.
func Last(ctx context.Context, l LogsAPI, j *jobs.Job, attempt, n int) ([]Line, error) {
	streams := attemptStreams(j)
	if attempt < 1 || attempt > len(streams) || streams[attempt-1] == "" {
		return nil, &NoStreamError{Job: j, Why: fmt.Sprintf("attempt %d ran no container", attempt)}
	}
	stream := streams[attempt-1]
	out, err := l.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(j.LogGroup), LogStreamName: aws.String(stream),
		StartFromHead: aws.Bool(false), Limit: aws.Int32(int32(min(max(n, 1), pageLimit))),
	})
	if err != nil {
		return nil, &UnreadableError{Group: j.LogGroup, Stream: stream, Why: unreadable(err), Err: err}
	}
	lines := make([]Line, 0, len(out.Events))
	for _, e := range out.Events {
		lines = append(lines, line(attempt, e))
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

// unreadable says in a few words why CloudWatch Logs refused a read.
func unreadable(err error) string {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return "the log stream is gone"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "AccessDenied":
			return "no permission to read it (logs:GetLogEvents)"
		}
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
