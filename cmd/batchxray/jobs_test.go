package main

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/batchxray/batchxray/internal/events"
	"github.com/batchxray/batchxray/internal/ui"
)

func TestJobsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    jobsOptions
		wantErr string
	}{
		{name: "defaults", want: jobsOptions{since: 24 * time.Hour}},
		{name: "every flag", args: []string{"--since", "72h", "--status", "failed", "--name", "nightly-"}, want: jobsOptions{since: 72 * time.Hour, status: "FAILED", name: "nightly-"}},
		{name: "zero since", args: []string{"--since", "0s"}, wantErr: "invalid --since 0s: must be positive"},
		{name: "unknown status", args: []string{"--status", "DONE"}, wantErr: `invalid --status "DONE": want one of SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED`},
		{name: "an argument", args: []string{"job-id"}, wantErr: `unknown command "job-id" for "jobs"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *jobsOptions
			cmd := newJobsCmd(&factory{}, func(_ context.Context, o *jobsOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&strings.Builder{})
			cmd.SetErr(&strings.Builder{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.since != tt.want.since || got.status != tt.want.status || got.name != tt.want.name {
				t.Errorf("options %+v, want %+v", *got, tt.want)
			}
		})
	}
}

// runJobs lists the stand-in's job from ListJobs and a forgotten one from
// the events; on a terminal the table fits its width, piped every column
// is whole. Without the events' log group it says so on stderr.
func TestRunJobsOutput(t *testing.T) {
	cfg, j := standInJob(t)
	ctx := context.Background()
	run := func(tty bool, width int) (string, string) {
		ios, _, _, errOut := ui.Test()
		out := &lockedBuffer{}
		ios.Out = out
		ios.SetStdoutTTY(tty)
		ios.SetWidth(width)
		f := &factory{
			IOStreams: ios, Now: time.Now,
			AWSConfig: func(context.Context) (aws.Config, error) { return cfg, nil },
			Globals:   &globalOptions{Stack: "demo", Output: outputText},
			Logger:    func() *slog.Logger { return slog.New(slog.DiscardHandler) },
		}
		if err := runJobs(ctx, &jobsOptions{f: f, since: time.Hour}); err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String()
	}
	out, errOut := run(false, 0)
	if !strings.Contains(out, j.ID+"  plain") || !strings.Contains(errOut, "no job events recorded for stack demo") {
		t.Errorf("without events: stdout\n%s\nstderr\n%s", out, errOut)
	}

	lc := cloudwatchlogs.NewFromConfig(cfg)
	group := events.GroupFor("demo")
	if _, err := lc.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-10 * time.Minute).Truncate(time.Second).UTC()
	msg := `{"version":"0","id":"e1","detail-type":"Batch Job State Change","source":"aws.batch","time":"` + at.Format(time.RFC3339) + `",` +
		`"detail":{"jobId":"0f0f0f0f-1111-2222-3333-444455556666","jobName":"forgotten-nightly","jobQueue":"arn:aws:batch:us-east-1:000000000000:job-queue/demo-queue",` +
		`"status":"FAILED","statusReason":"Essential container in task exited with a long story to tell","createdAt":` + strconv.FormatInt(at.Add(-time.Minute).UnixMilli(), 10) + `}}`
	if _, err := lc.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("s"),
		LogEvents: []cwltypes.InputLogEvent{{Timestamp: aws.Int64(at.UnixMilli()), Message: aws.String(msg)}}}); err != nil {
		t.Fatal(err)
	}
	out, errOut = run(false, 0)
	if !strings.Contains(out, "forgotten-nightly  FAILED") || !strings.Contains(out, "with a long story to tell") || errOut != "" {
		t.Errorf("piped: stdout\n%s\nstderr\n%s", out, errOut)
	}
	out, _ = run(true, 90)
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if w := len([]rune(l)); w > 90 {
			t.Errorf("a %d-column line on a 90-column terminal: %q", w, l)
		}
	}
	if !strings.Contains(out, "forgotten") || !strings.Contains(out, "  CREATED ") {
		t.Errorf("on a terminal:\n%s", out)
	}
}
