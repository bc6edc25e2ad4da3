package xray

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// The fixed trace set the filter table runs against.
const (
	t1 = "1-5f000001-000000000000000000000001" // api, GET 200, job_id abc, attempt 1, retried false, calls S3
	t2 = "1-5f000002-000000000000000000000002" // api, POST 500 fault, job_id def, attempt 2, S3 faulted
	t3 = "1-5f000003-000000000000000000000003" // worker, 429 error+throttle, job_id abc-2, retried true
	t4 = "1-5f000004-000000000000000000000004" // worker, still in progress, no annotations
)

func fixtureDocs() []string {
	return []string{
		`{"name":"api","id":"a000000000000001","trace_id":"` + t1 + `","start_time":1593835521.0,"end_time":1593835522.5,
		  "origin":"AWS::EC2::Instance",
		  "http":{"request":{"method":"GET","url":"https://example.com/jobs/42"},"response":{"status":200}},
		  "annotations":{"job_id":"abc","attempt":1,"retried":false},
		  "subsegments":[{"name":"S3","id":"a000000000000002","namespace":"aws","start_time":1593835521.1,"end_time":1593835521.4}]}`,
		`{"name":"api","id":"b000000000000001","trace_id":"` + t2 + `","start_time":1593835522.0,"end_time":1593835525.0,"fault":true,
		  "http":{"request":{"method":"POST","url":"https://example.com/upload"},"response":{"status":500}},
		  "annotations":{"job_id":"def","attempt":2},
		  "subsegments":[{"name":"S3","id":"b000000000000002","namespace":"aws","start_time":1593835522.1,"end_time":1593835524.9,"fault":true}]}`,
		`{"name":"worker","id":"c000000000000001","trace_id":"` + t3 + `","start_time":1593835523.0,"end_time":1593835524.0,"error":true,"throttle":true,
		  "http":{"request":{"method":"GET","url":"https://example.com/limit"},"response":{"status":429}},
		  "annotations":{"job_id":"abc-2","retried":true}}`,
		`{"name":"worker","id":"d000000000000001","trace_id":"` + t4 + `","start_time":1593835524.0,"in_progress":true}`,
	}
}

func fixtureService(t testing.TB) *Service {
	t.Helper()
	s := New(awsproto.Env{Account: "000000000000", Region: "us-east-1", Clock: clockwork.NewFakeClockAt(time.Unix(1593835600, 0))}, Config{})
	for _, d := range fixtureDocs() {
		if err := s.Ingest([]byte(d)); err != nil {
			t.Fatalf("ingest fixture: %v", err)
		}
	}
	return s
}

func matching(t *testing.T, s *Service, expr string) ([]string, error) {
	t.Helper()
	from, to := 1593835000.0, 1593836000.0
	out, err := s.traceSummaries(getTraceSummariesInput{StartTime: &from, EndTime: &to, FilterExpression: &expr})
	if err != nil {
		return nil, err
	}
	ids := []string{}
	for _, ts := range out.TraceSummaries {
		ids = append(ids, ts.Id)
	}
	slices.Sort(ids)
	return ids, nil
}

func TestFilterExpressions(t *testing.T) {
	s := fixtureService(t)
	tests := []struct {
		expr string
		want []string
	}{
		{`annotation.job_id = "abc"`, []string{t1}},
		{`annotation.job_id != "abc"`, []string{t2, t3}},
		{`annotation.job_id`, []string{t1, t2, t3}},
		{`!annotation.job_id`, []string{t4}},
		{`not annotation.job_id`, []string{t4}},
		{`annotation.attempt = 2`, []string{t2}},
		{`annotation.attempt >= 1`, []string{t1, t2}},
		{`annotation.attempt < 2`, []string{t1}},
		{`annotation.attempt > 1.5`, []string{t2}},
		{`annotation.attempt <= -1`, []string{}},
		{`annotation.attempt = "1"`, []string{}},
		{`annotation.retried = true`, []string{t3}},
		{`annotation.retried = false`, []string{t1}},
		{`annotation.retried != true`, []string{t1}},
		{`annotation.job_id BEGINSWITH "abc"`, []string{t1, t3}},
		{`annotation.job_id CONTAINS "e"`, []string{t2}},
		{`annotation.job_id endswith "-2"`, []string{t3}},
		{`annotation.job_id = "abc" OR annotation.job_id = "def"`, []string{t1, t2}},
		{`annotation.job_id = "abc" || annotation.attempt = 2`, []string{t1, t2}},
		{`annotation.job_id BEGINSWITH "abc" and not throttle`, []string{t1}},
		{`annotation.job_id BEGINSWITH "abc" && !throttle`, []string{t1}},
		{`annotation.job_id BEGINSWITH "abc" AND throttle`, []string{t3}},
		{`annotation.nosuch = "x"`, []string{}},
		{`service("api")`, []string{t1, t2}},
		{`service("S3")`, []string{t1, t2}},
		{`service("S3") { fault }`, []string{t2}},
		{`service("api") { ok }`, []string{t1}},
		{`service("api") { responsetime > 2 }`, []string{t2}},
		{`service("nope")`, []string{}},
		{`duration > 2`, []string{t2}},
		{`duration < 1`, []string{t4}},
		{`responsetime <= 1.5`, []string{t1, t3}},
		{`responsetime = 3`, []string{t2}},
		{`ok`, []string{t1, t4}},
		{`OK`, []string{t1, t4}},
		{`error`, []string{t3}},
		{`fault`, []string{t2}},
		{`throttle`, []string{t3}},
		{`fault = false`, []string{t1, t3, t4}},
		{`error != false`, []string{t3}},
		{`partial`, []string{t4}},
		{`http.status = 500`, []string{t2}},
		{`http.status >= 400`, []string{t2, t3}},
		{`http.url CONTAINS "jobs"`, []string{t1}},
		{`http.url BEGINSWITH "https://example.com/u"`, []string{t2}},
		{`http.method = "POST"`, []string{t2}},
		{`(annotation.attempt = 1 or fault) and service("api")`, []string{t1, t2}},
		{`annotation.attempt = 1 or fault and service("worker")`, []string{t1}},
		{`not (ok)`, []string{t2, t3}},
		{`NOT ok`, []string{t2, t3}},
		{`!!ok`, []string{t1, t4}},
		{`((((error))))`, []string{t3}},
		{"annotation.job_id\t=\n\"abc\"", []string{t1}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := matching(t, s, tt.expr)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("matching traces (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformedFilterExpressions(t *testing.T) {
	s := fixtureService(t)
	tests := []struct {
		expr, problem string
	}{
		{`annotation.job_id =`, `expected a string, number, true or false after annotation.job_id =, found the end of the expression`},
		{`annotation.job_id = "abc`, `unterminated string at offset 20`},
		{`annotation. = "x"`, `annotation key "" must be letters, digits and _`},
		{`(ok`, `expected ")", found the end of the expression`},
		{`ok)`, `unexpected ")" after a complete condition at offset 2`},
		{`ok and`, `expected a condition, found the end of the expression`},
		{`and ok`, `expected a condition, found "and" at offset 0`},
		{`duration > "x"`, `expected a number after duration >, found "x"`},
		{`duration`, `duration needs a comparison`},
		{`http.url > "x"`, `http.url needs = != CONTAINS BEGINSWITH or ENDSWITH with a string`},
		{`service(api)`, `expected a quoted service name in service(...), found "api"`},
		{`service("api") { fault`, `expected "}" closing service(...) {, found the end of the expression`},
		{`service("a") { service("b") { ok } }`, `cannot be nested`},
		{`bogus = 1`, `unknown keyword "bogus" at offset 0`},
		{`annotation.a < "x"`, `compares strings with = != CONTAINS BEGINSWITH or ENDSWITH, not <`},
		{`annotation.a CONTAINS 5`, `CONTAINS needs a string`},
		{`annotation.a > true`, `compares booleans with = or !=, not >`},
		{`ok & fault`, `unexpected character "&" at offset 3`},
		{`annotation.a = 1 2`, `unexpected "2" after a complete condition at offset 17`},
		{`fault = maybe`, `expected true or false after fault =, found "maybe"`},
		{`fault < true`, `fault takes = or != with true or false, not <`},
		{`annotation.a = 1.2.3`, `malformed number "1.2.3"`},
		{strings.Repeat("(", 200) + "ok" + strings.Repeat(")", 200), `nested too deeply`},
		{`   `, `empty expression`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := parseFilter(tt.expr)
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("parseFilter error = %v, want one containing %q", err, tt.problem)
			}
			if strings.TrimSpace(tt.expr) == "" {
				return // an empty filter is no filter in GetTraceSummaries
			}
			_, err = matching(t, s, tt.expr)
			e, ok := err.(*awsproto.Error)
			if !ok || e.Code != "InvalidRequestException" || !strings.Contains(e.Message, tt.problem) {
				t.Errorf("GetTraceSummaries error = %v, want InvalidRequestException naming %q", err, tt.problem)
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		`annotation.job_id = "abc"`, `service("api") { fault }`, `(ok or error) and not throttle`,
		`duration >= 1.5e3`, `http.url CONTAINS "x\"y"`, `!annotation.a && annotation.b != -2`, `((`, `"`,
	} {
		f.Add(seed)
	}
	s := fixtureService(f)
	s.store.flush()
	sums := make([]*summary, 0, len(s.byEpoch))
	for _, t := range s.byEpoch {
		sums = append(sums, &t.sum)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := parseFilter(expr)
		if err != nil {
			if _, ok := err.(*filterError); !ok {
				t.Fatalf("parseFilter(%q) error %T, want *filterError", expr, err)
			}
			return
		}
		for _, sum := range sums {
			_ = p(sum)
		}
	})
}

func TestSummaryOfFixture(t *testing.T) {
	s := fixtureService(t)
	sum := s.traces[t2].summaryOut()
	round := func(f float64) float64 { return math.Round(f*1000) / 1000 }
	got := fmt.Sprintf("start=%v duration=%v response=%v fault=%v partial=%v entry=%s services=%d http=%s %d",
		round(sum.StartTime), round(sum.Duration), round(sum.ResponseTime), sum.HasFault, sum.IsPartial,
		sum.EntryPoint.Name, len(sum.ServiceIds), sum.Http.HttpMethod, *sum.Http.HttpStatus)
	want := "start=1.593835522e+09 duration=3 response=3 fault=true partial=false entry=api services=2 http=POST 500"
	if got != want {
		t.Errorf("summary of %s:\n got %s\nwant %s", t2, got, want)
	}
}
