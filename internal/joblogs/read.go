package joblogs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/waiter"
)

// pageLimit is the most events one GetLogEvents call returns.
const pageLimit = 10000

// Default follow delays and bound.
const (
	DefaultPoll    = time.Second
	DefaultMaxWait = 24 * time.Hour
)

// Options say which of a job's output to read.
type Options struct {
	// Attempt is the attempt to read, from 1; 0 is the latest.
	Attempt int
	// Index picks an array child of the job given (nil: the job itself).
	Index *int
	// Since drops the lines written before it (zero: none are dropped).
	Since time.Time
	// Tail keeps only the last Tail lines of the attempt (0: all of them).
	Tail int
	// Follow keeps reading a job that has not ended, attempt after
	// attempt, until it ends; Read then returns a *jobs.FailedError when it
	// FAILED.
	Follow bool
	// Poll is the delay between looks while following (default DefaultPoll).
	Poll time.Duration
	// MaxWait bounds a follow (default DefaultMaxWait); when it runs out
	// Read returns a *waiter.TimeoutError.
	MaxWait time.Duration
	// Clock is what following sleeps on (default the real clock).
	Clock clockwork.Clock
	// OnWait is told, once, why a followed job has no output yet.
	OnWait func(why string)
}

// Line is one line the job wrote, as CloudWatch Logs keeps it.
type Line struct {
	Time    time.Time `json:"time"`
	Attempt int       `json:"attempt"`
	Message string    `json:"message"`
}

// NoStreamError says why a job has no output to read yet.
type NoStreamError struct {
	Job *jobs.Job
	Why string
}

func (e *NoStreamError) Error() string {
	return fmt.Sprintf("job %s (%s) has no output yet: %s", e.Job.Name, e.Job.ID, e.Why)
}

// NotFoundError is an attempt or array index the job does not have.
type NotFoundError struct {
	What string
}

func (e *NotFoundError) Error() string { return e.What }

// NotFound marks the error for exit code 4.
func (e *NotFoundError) NotFound() bool { return true }

// Read writes the job's output to emit, a page of lines at a time, and
// returns the job as last described. An unknown job is a
// *jobs.NotFoundError; a job without output yet (and not followed) a
// *NoStreamError.
func Read(ctx context.Context, b BatchAPI, l LogsAPI, id string, o Options, emit func([]Line) error) (*jobs.Job, error) {
	if o.Index != nil {
		id += ":" + strconv.Itoa(*o.Index)
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	r := &reader{logs: l, o: o, emit: emit}
	j, err := describe(ctx, b, id)
	if err != nil {
		return nil, err
	}
	if j.Array != nil {
		return j, &NoStreamError{Job: j, Why: fmt.Sprintf("it is an array job of %d children: pick one with --index 0 to %d", j.Array.Size, j.Array.Size-1)}
	}
	streams := attemptStreams(j)
	cur := o.Attempt
	if cur == 0 {
		cur = max(len(streams), 1)
	} else if cur > j.MaxAttempts || cur > len(streams) && (!o.Follow || j.Status.Terminal()) {
		return j, &NotFoundError{What: fmt.Sprintf("job %s (%s) has no attempt %d: it has %d", j.Name, j.ID, cur, len(streams))}
	}
	if !o.Follow {
		if cur > len(streams) {
			return j, &NoStreamError{Job: j, Why: notStarted(j)}
		}
		return j, r.forward(ctx, j, cur, streams[cur-1])
	}

	told := false
	err = waiter.Wait(ctx, "follow the output of job "+j.ID, waiter.Options{MinDelay: o.Poll, MaxDelay: o.Poll, MaxWait: o.MaxWait, Clock: o.Clock}, func(ctx context.Context) (bool, error) {
		// Describe before reading: whatever the job wrote before the state
		// seen here is in the streams read after it.
		if r.calls > 0 {
			var err error
			if j, err = describe(ctx, b, id); err != nil {
				return false, err
			}
			streams = attemptStreams(j)
		}
		r.calls++
		for cur <= len(streams) {
			if err := r.forward(ctx, j, cur, streams[cur-1]); err != nil {
				return false, err
			}
			if cur == len(streams) {
				break
			}
			// A later attempt is read whole: --tail is of the first one.
			cur++
			r.token, r.o.Tail = "", 0
		}
		if cur > len(streams) && !told && o.OnWait != nil && !j.Status.Terminal() {
			told = true
			o.OnWait(notStarted(j))
		}
		return j.Status.Terminal(), nil
	})
	if err != nil {
		return j, err
	}
	if j.Status == jobs.Failed {
		return j, &jobs.FailedError{Jobs: []*jobs.Job{j}}
	}
	return j, nil
}

func describe(ctx context.Context, b BatchAPI, id string) (*jobs.Job, error) {
	found, unknown, err := jobs.Describe(ctx, b, []string{id})
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, &jobs.NotFoundError{IDs: unknown}
	}
	j := jobs.FromDetail(found[0])
	return &j, nil
}

// attemptStreams is each attempt's log stream, the one under way last. An
// attempt that never started a container has "".
func attemptStreams(j *jobs.Job) []string {
	s := make([]string, 0, len(j.Attempts)+1)
	for _, a := range j.Attempts {
		s = append(s, a.LogStream)
	}
	// Between attempts the container still names the last one's stream.
	if j.Status == jobs.Running && j.LogStream != "" && (len(s) == 0 || s[len(s)-1] != j.LogStream) {
		s = append(s, j.LogStream)
	}
	return s
}

// notStarted says why a job has no stream for its next attempt.
func notStarted(j *jobs.Job) string {
	switch j.Status {
	case jobs.Starting:
		return "it is still STARTING; its log stream appears once it is RUNNING"
	case jobs.Succeeded, jobs.Failed:
		return fmt.Sprintf("it %s without running a container", j.Status)
	}
	return fmt.Sprintf("it has not started, it is %s", j.Status)
}

// reader reads one stream at a time, keeping the forward token.
type reader struct {
	logs  LogsAPI
	o     Options
	emit  func([]Line) error
	token string
	calls int
}

// forward reads the stream from the reader's token up to its current end,
// emitting each page; with Tail and no token yet it first reads the last
// Tail lines backwards.
func (r *reader) forward(ctx context.Context, j *jobs.Job, attempt int, stream string) error {
	if stream == "" {
		return nil
	}
	if r.token == "" && r.o.Tail > 0 {
		return r.tail(ctx, j, attempt, stream)
	}
	for {
		in := r.input(j, stream)
		in.StartFromHead = aws.Bool(true)
		if r.token != "" {
			in.NextToken = aws.String(r.token)
		}
		out, err := r.logs.GetLogEvents(ctx, in)
		if err != nil {
			return readErr(j, stream, err)
		}
		if err := r.send(attempt, out.Events); err != nil {
			return err
		}
		next := aws.ToString(out.NextForwardToken)
		// CloudWatch Logs hands back the token it was given at the end of
		// the stream.
		if next == "" || next == r.token {
			return nil
		}
		r.token = next
	}
}

// tail reads the last Tail lines, backwards a page at a time, and keeps the
// forward token of the newest page so following goes on after them.
func (r *reader) tail(ctx context.Context, j *jobs.Job, attempt int, stream string) error {
	var (
		got  []types.OutputLogEvent
		back string
	)
	for len(got) < r.o.Tail {
		in := r.input(j, stream)
		in.StartFromHead = aws.Bool(false)
		in.Limit = aws.Int32(int32(min(r.o.Tail-len(got), pageLimit)))
		if back != "" {
			in.NextToken = aws.String(back)
		}
		out, err := r.logs.GetLogEvents(ctx, in)
		if err != nil {
			return readErr(j, stream, err)
		}
		if back == "" {
			r.token = aws.ToString(out.NextForwardToken)
		}
		got = append(slices.Clone(out.Events), got...)
		next := aws.ToString(out.NextBackwardToken)
		if next == "" || next == back || len(out.Events) == 0 {
			break
		}
		back = next
	}
	if len(got) > r.o.Tail {
		got = got[len(got)-r.o.Tail:]
	}
	return r.send(attempt, got)
}

func (r *reader) input(j *jobs.Job, stream string) *cloudwatchlogs.GetLogEventsInput {
	in := &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String(j.LogGroup), LogStreamName: aws.String(stream)}
	if !r.o.Since.IsZero() {
		in.StartTime = aws.Int64(r.o.Since.UnixMilli())
	}
	return in
}

func (r *reader) send(attempt int, events []types.OutputLogEvent) error {
	if len(events) == 0 {
		return nil
	}
	lines := make([]Line, len(events))
	for i, e := range events {
		lines[i] = line(attempt, e)
	}
	return r.emit(lines)
}

func line(attempt int, e types.OutputLogEvent) Line {
	return Line{Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(), Attempt: attempt, Message: aws.ToString(e.Message)}
}

// readErr treats a stream not there yet as empty: the awslogs driver
// creates it with the first line.
func readErr(j *jobs.Job, stream string, err error) error {
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	return fmt.Errorf("read log stream %s of %s: %w", stream, j.LogGroup, err)
}
