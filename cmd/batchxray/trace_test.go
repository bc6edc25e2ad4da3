package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/charmbracelet/x/ansi"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/jobs"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/traces"
	"github.com/batchxray/batchxray/internal/ui"
)

func TestTraceFlags(t *testing.T) {
	def := traceOptions{jobID: "j", lookup: traces.LookupOptions{Wait: 30 * time.Second, LogLines: traces.DefaultLogLines}}
	with := func(change func(o *traceOptions)) traceOptions {
		o := def
		change(&o)
		return o
	}
	tests := []struct {
		name    string
		args    []string
		want    traceOptions
		wantErr string
	}{
		{name: "id", args: []string{"j"}, want: def},
		{name: "every flag", args: []string{"j", "--wait", "2m", "--depth", "2", "--min-duration", "10ms", "--errors-only", "--raw"},
			want: with(func(o *traceOptions) {
				o.lookup.Wait, o.render.Depth, o.render.MinDuration, o.render.ErrorsOnly, o.raw = 2*time.Minute, 2, 10*time.Millisecond, true, true
			})},
		{name: "index 0 is an index", args: []string{"--index", "0", "j"}, want: with(func(o *traceOptions) { o.lookup.Index = new(int) })},
		{name: "index", args: []string{"--index", "7", "j"}, want: with(func(o *traceOptions) { o.index, o.lookup.Index = 7, &o.index })},
		{name: "look once", args: []string{"--wait", "0s", "j"}, want: with(func(o *traceOptions) { o.lookup.Wait = 0 })},
		{name: "no log lines", args: []string{"--log-lines", "0", "j"}, want: with(func(o *traceOptions) { o.lookup.LogLines = 0 })},
		{name: "negative log lines", args: []string{"--log-lines", "-1", "j"}, wantErr: "invalid --log-lines -1: must be 0 (none) to 10000"},
		{name: "too many log lines", args: []string{"--log-lines", "10001", "j"}, wantErr: "invalid --log-lines 10001"},
		{name: "no id", args: nil, wantErr: "accepts 1 arg(s), received 0"},
		{name: "two ids", args: []string{"a", "b"}, wantErr: "accepts 1 arg(s), received 2"},
		{name: "negative wait", args: []string{"--wait", "-1s", "j"}, wantErr: "invalid --wait -1s"},
		{name: "negative depth", args: []string{"--depth", "-1", "j"}, wantErr: "invalid --depth -1"},
		{name: "negative min duration", args: []string{"--min-duration", "-1ms", "j"}, wantErr: "invalid --min-duration -1ms"},
		{name: "negative index", args: []string{"--index", "-1", "j"}, wantErr: "invalid --index -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(t, nil, newTraceCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.clock == nil {
				t.Error("no clock for the finder")
			}
			got.f, got.clock = nil, nil
			if d := cmp.Diff(tt.want, *got, cmp.AllowUnexported(traceOptions{})); d != "" {
				t.Errorf("options (-want +got):\n%s", d)
			}
		})
	}
}

// standInJob runs `sh -c true` as a Batch job on an in-process stand-in
// and waits for it to end. The command is not `batchxray job`, so the job
// itself sends no trace.
func standInJob(t *testing.T) (aws.Config, *jobs.Job) {
	t.Helper()
	ctx := context.Background()
	_, cfg := localawstest.Start(t, localaws.Options{ComputeEnvironmentDelay: -1})
	if err := makeStack(ctx, cfg, "demo", 4); err != nil {
		t.Fatal(err)
	}
	c := batch.NewFromConfig(cfg)
	out, err := c.SubmitJob(ctx, &batch.SubmitJobInput{
		JobName: aws.String("plain"), JobQueue: aws.String("demo-queue"), JobDefinition: aws.String("demo-job"),
		ContainerOverrides: &batchtypes.ContainerOverrides{Command: []string{"sh", "-c", "true"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := jobs.Wait(ctx, c, []string{aws.ToString(out.JobId)}, jobs.WaitOptions{MinDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if js[0].Status != jobs.Succeeded {
		t.Fatalf("job %s: %s %s", js[0].ID, js[0].Status, js[0].StatusReason)
	}
	return cfg, js[0]
}

// putSegment sends the job's segment as `batchxray job` would, with an S3
// call that failed with a throttle under it, through X-Ray's API.
func putSegment(t *testing.T, cfg aws.Config, j *jobs.Job) string {
	t.Helper()
	start, end := float64(j.StartedAt.UnixMilli())/1000, float64(j.StoppedAt.UnixMilli())/1000
	traceID := fmt.Sprintf("1-%08x-0123456789abcdef01234567", j.StartedAt.Unix())
	doc := fmt.Sprintf(`{"id":"a1b2c3d4e5f60718","trace_id":%q,"name":"BatchJob","start_time":%f,"end_time":%f,
"annotations":{"job_id":%q,"attempt":1},
"subsegments":[{"id":"1112131415161718","name":"S3","namespace":"aws","start_time":%f,"end_time":%f,"throttle":true,"error":true,
"aws":{"operation":"PutObject"},"http":{"response":{"status":429}}}]}`,
		traceID, start, end, j.ID, start, start+(end-start)/2)
	doc = strings.ReplaceAll(doc, "\n", "")
	out, err := xray.NewFromConfig(cfg).PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{doc}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.UnprocessedTraceSegments) > 0 {
		t.Fatalf("segment refused: %+v", out.UnprocessedTraceSegments[0])
	}
	return traceID
}

func traceFactory(cfg aws.Config, tty bool, now time.Time) (*factory, *bytes.Buffer, *bytes.Buffer) {
	f := &factory{Globals: &globalOptions{Output: outputText}, Now: func() time.Time { return now }}
	var out, errOut *bytes.Buffer
	f.IOStreams, _, out, errOut = ui.Test()
	f.IOStreams.SetStdoutTTY(tty)
	f.IOStreams.SetStderrTTY(tty)
	if tty {
		f.IOStreams.SetWidth(120)
	}
	f.AWSConfig = func(context.Context) (aws.Config, error) { return cfg, nil }
	return f, out, errOut
}

// TestTraceDraws finds a job's trace on the stand-in and draws it, with
// colour and the terminal's width on a terminal, plain at 80 columns off
// one; the console URL goes to stderr only.
func TestTraceDraws(t *testing.T) {
	cfg, j := standInJob(t)
	traceID := putSegment(t, cfg, j)
	url := traces.ConsoleURL("us-east-1", traceID)
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			now := j.StoppedAt.Add(time.Second)
			f, out, errOut := traceFactory(cfg, tty, now)
			opts := &traceOptions{f: f, clock: clockwork.NewFakeClockAt(now), jobID: j.ID}
			if err := runTrace(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			for _, want := range []string{"plain  " + j.ID, "SUCCEEDED", "attempt 1", "BatchJob", "S3 PutObject", "⧗ throttle", "services  BatchJob ✓1 · S3 ⧗1"} {
				if !strings.Contains(ansi.Strip(got), want) {
					t.Errorf("drawing lacks %q:\n%s", want, got)
				}
			}
			if strings.Contains(got, "console") {
				t.Errorf("the console URL is on stdout:\n%s", got)
			}
			if hasColor := strings.Contains(got, "\x1b["); hasColor != tty {
				t.Errorf("colour = %v on tty = %v:\n%s", hasColor, tty, got)
			}
			width := 80
			if tty {
				width = 120
			}
			for _, l := range strings.Split(ansi.Strip(got), "\n") {
				if n := ansi.StringWidth(l); n > width {
					t.Errorf("line of %d cells, wider than %d: %q", n, width, l)
				}
			}
			// On a terminal a spinner runs while finding, and is cleared.
			wantErr := "console  " + url + "\n"
			if tty {
				if !strings.Contains(errOut.String(), "looking for the traces of "+j.ID+" in X-Ray (up to 0s)\r\x1b[K"+wantErr) {
					t.Errorf("stderr = %q, want a cleared spinner, then %q", errOut.String(), wantErr)
				}
			} else if errOut.String() != wantErr {
				t.Errorf("stderr = %q, want %q", errOut.String(), wantErr)
			}
		})
	}
}

// TestTraceNotFound: an unknown job and a job that sent no trace are both
// not found (exit 4), each with its one-line explanation.
func TestTraceNotFound(t *testing.T) {
	cfg, j := standInJob(t)
	tests := []struct {
		name  string
		id    string
		after time.Duration
		want  string
	}{
		{name: "unknown job", id: "no-such-job", want: `job "no-such-job" not found in us-east-1: Batch keeps finished jobs for about 7 days; check the ID and --region`},
		{name: "just stopped", id: j.ID, after: time.Second, want: "no trace for job " + j.ID + " yet: X-Ray has not indexed it\ntry again in a minute, or wait longer with --wait 2m"},
		{name: "ran untraced", id: j.ID, after: 3 * time.Minute, want: "no trace for job " + j.ID + ": the job ran but sent no trace\ncheck that the X-Ray daemon runs on the host (systemctl status xray) and that the job's sampling rule covers it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := j.StoppedAt.Add(tt.after)
			f, out, _ := traceFactory(cfg, false, now)
			err := runTrace(context.Background(), &traceOptions{f: f, clock: clockwork.NewFakeClockAt(now), jobID: tt.id})
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if code := exitCode(err); code != exitNotFound {
				t.Errorf("exit code = %d, want %d", code, exitNotFound)
			}
			if out.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}
