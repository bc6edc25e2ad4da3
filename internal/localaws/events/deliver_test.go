package events

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/logs"
)

// delivered wraps the stand-in's Logs and reports each delivery's outcome,
// so the test waits on deliveries rather than on time.
type delivered struct {
	*logs.Service
	done chan error
}

func (d *delivered) DeliverAs(service, group, stream string, at time.Time, message string) error {
	err := d.Service.DeliverAs(service, group, stream, at, message)
	d.done <- err
	return err
}

func call(t *testing.T, ops map[string]func([]byte) (any, error), op, body string) any {
	t.Helper()
	out, err := ops[op]([]byte(body))
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

const policyDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["events.amazonaws.com","delivery.logs.amazonaws.com"]},"Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:000000000000:log-group:/batchxray/demo/events:*"}]}`

func TestDeliverBatchJobStateChange(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(at)
	env := awsproto.Env{Account: "000000000000", Region: "us-east-1", Clock: clock, Logger: slog.New(slog.DiscardHandler)}
	lg := &delivered{Service: logs.New(env), done: make(chan error, 10)}
	s := New(env, Config{Logs: lg, Delay: time.Second})

	call(t, lg.Ops, "CreateLogGroup", `{"logGroupName":"/batchxray/demo/events"}`)
	call(t, s.Ops, "PutRule", `{"Name":"demo-jobs","EventPattern":`+jsonString(pattern())+`}`)
	call(t, s.Ops, "PutTargets", `{"Rule":"demo-jobs","Targets":[{"Id":"log","Arn":"arn:aws:logs:us-east-1:000000000000:log-group:/batchxray/demo/events"}]}`)

	detail := `{"jobArn":"arn:aws:batch:us-east-1:000000000000:job/j1","jobId":"j1","jobName":"x","jobQueue":"` + queue + `","status":"RUNNABLE","statusReason":"waiting"}`
	other := `{"jobArn":"arn:aws:batch:us-east-1:000000000000:job/j2","jobId":"j2","jobQueue":"arn:aws:batch:us-east-1:000000000000:job-queue/other","status":"RUNNABLE"}`

	// Without a resource policy, EventBridge may not write: dropped.
	s.JobStateChange(at, "arn:aws:batch:us-east-1:000000000000:job/j1", []byte(detail))
	clock.Advance(time.Second)
	if err := <-lg.done; err == nil {
		t.Fatal("delivered without a resource policy")
	}

	call(t, lg.Ops, "PutResourcePolicy", `{"policyName":"demo-events","policyDocument":`+jsonString(policyDoc)+`}`)
	s.JobStateChange(at.Add(1500*time.Millisecond), "arn:aws:batch:us-east-1:000000000000:job/j2", []byte(other))
	s.JobStateChange(at.Add(1500*time.Millisecond), "arn:aws:batch:us-east-1:000000000000:job/j1", []byte(detail))
	// Not before the delay.
	clock.Advance(999 * time.Millisecond)
	select {
	case err := <-lg.done:
		t.Fatalf("delivered before the delay: %v", err)
	default:
	}
	clock.Advance(time.Millisecond)
	if err := <-lg.done; err != nil {
		t.Fatal(err)
	}
	select {
	case <-lg.done:
		t.Fatal("the other queue's job was delivered too")
	default:
	}

	out := call(t, lg.Ops, "FilterLogEvents", `{"logGroupName":"/batchxray/demo/events"}`)
	b, _ := json.Marshal(out)
	var page struct {
		Events []struct {
			LogStreamName string
			Timestamp     int64
			Message       string
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &page); err != nil || len(page.Events) != 1 {
		t.Fatalf("events %s, %v: want one", b, err)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(page.Events[0].Message), &ev); err != nil {
		t.Fatal(err)
	}
	id, _ := ev["id"].(string)
	if page.Events[0].LogStreamName != id || len(id) != 36 {
		t.Errorf("stream %q, event id %q: want the event's own stream", page.Events[0].LogStreamName, id)
	}
	delete(ev, "id")
	want := map[string]any{
		"version": "0", "detail-type": "Batch Job State Change", "source": "aws.batch", "account": "000000000000",
		"time": "2026-11-25T12:00:01Z", "region": "us-east-1", "resources": []any{"arn:aws:batch:us-east-1:000000000000:job/j1"},
		"detail": map[string]any{"jobArn": "arn:aws:batch:us-east-1:000000000000:job/j1", "jobId": "j1", "jobName": "x", "jobQueue": queue, "status": "RUNNABLE", "statusReason": "waiting"},
	}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	if got := page.Events[0].Timestamp; got != at.Add(time.Second).UnixMilli() {
		t.Errorf("timestamp %d, want the event's time", got)
	}
}

const queue = "arn:aws:batch:us-east-1:000000000000:job-queue/demo-queue"

func pattern() string {
	return `{"source":["aws.batch"],"detail-type":["Batch Job State Change"],"detail":{"jobQueue":["` + queue + `"]}}`
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestPatternMatching(t *testing.T) {
	ev := map[string]any{"source": "aws.batch", "detail": map[string]any{"status": "FAILED", "tags": []any{"a", "b"}, "n": 3.0}}
	for _, tt := range []struct {
		pattern string
		want    bool
	}{
		{`{"source":["aws.batch"]}`, true},
		{`{"source":["aws.ec2"]}`, false},
		{`{"detail":{"status":["SUCCEEDED","FAILED"]}}`, true},
		{`{"detail":{"tags":["b"]}}`, true},
		{`{"detail":{"n":[3]}}`, true},
		{`{"detail":{"n":["3"]}}`, false},
		{`{"detail":{"missing":["x"]}}`, false},
		{`{"detail":{"missing":[{"exists":false}]}}`, true},
		{`{"detail":{"status":[{"exists":true}]}}`, true},
		{`{"detail":{"status":[{"prefix":"FAIL"}]}}`, true},
		{`{"detail":{"status":[{"anything-but":["FAILED"]}]}}`, false},
		{`{"detail":{"status":[{"anything-but":"RUNNING"}]}}`, true},
		{`{"source":{"x":["y"]}}`, false},
	} {
		m, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tt.pattern, err)
		}
		if got := m(ev); got != tt.want {
			t.Errorf("%s matches = %v, want %v", tt.pattern, got, tt.want)
		}
	}
	for _, bad := range []string{`[]`, `{"source":"aws.batch"}`, `{"source":[]}`, `{"source":[{"suffix":"x"}]}`, `{"source":[{"prefix":1}]}`} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
