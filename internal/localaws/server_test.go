package localaws

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// echoService answers every request with its operation and counts what it
// served, so a test can tell the router's answers from the service's.
type echoService struct{ served []string }

func (e *echoService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	op := awsproto.QueryAction(r, b)
	e.served = append(e.served, op)
	awsproto.WriteQuery(w, awsproto.STSNamespace, op, struct{ Echo string }{op})
}
func (e *echoService) Operation(r *http.Request, body []byte) string {
	return awsproto.QueryAction(r, body)
}
func (e *echoService) WriteError(w http.ResponseWriter, _ *http.Request, err *awsproto.Error) {
	awsproto.WriteQueryError(w, err)
}
func (e *echoService) ThrottleError() *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
}

func newTestServer(opts Options) (*Server, *echoService) {
	s := New(opts)
	e := &echoService{}
	s.services["echo"] = e
	return s, e
}

func call(t *testing.T, s *Server, auth, action string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4566/", strings.NewReader("Action="+action+"&Version=1"))
	req.Header.Set("Authorization", auth)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

const echoAuth = "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/echo/aws4_request, SignedHeaders=host, Signature=abc"

func TestRoutesBySigV4Scope(t *testing.T) {
	s, e := newTestServer(Options{})
	code, body := call(t, s, echoAuth, "GetThing")
	if code != http.StatusOK || !strings.Contains(body, "<GetThingResult><Echo>GetThing</Echo></GetThingResult>") {
		t.Fatalf("got %d %s", code, body)
	}
	if diff := cmp.Diff([]string{"GetThing"}, e.served); diff != "" {
		t.Errorf("served (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Call{{"echo", "GetThing"}}, s.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestUnknownServiceIsAnError(t *testing.T) {
	s, _ := newTestServer(Options{})
	code, body := call(t, s, strings.Replace(echoAuth, "/echo/", "/nosuch/", 1), "X")
	if code != http.StatusBadRequest || !strings.Contains(body, `"__type":"UnknownService"`) {
		t.Fatalf("got %d %s", code, body)
	}
}

func TestServiceFromHostWithoutSignature(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://echo.amazonaws.com/", nil)
	if got := serviceName(req); got != "echo" {
		t.Errorf("serviceName = %q, want echo", got)
	}
	req = httptest.NewRequest(http.MethodGet, "http://127.0.0.1/?X-Amz-Credential=AKID%2F20261125%2Fus-east-1%2Fs3%2Faws4_request", nil)
	if got := serviceName(req); got != "s3" {
		t.Errorf("serviceName presigned = %q, want s3", got)
	}
}

func TestThrottleIsDeterministicShare(t *testing.T) {
	s, e := newTestServer(Options{ThrottleRate: 0.25})
	var throttled int
	for range 8 {
		code, body := call(t, s, echoAuth, "GetThing")
		if code == http.StatusBadRequest && strings.Contains(body, "<Code>Throttling</Code>") {
			throttled++
		}
	}
	if throttled != 2 || len(e.served) != 6 {
		t.Errorf("throttled %d of 8 (served %d), want 2 (6)", throttled, len(e.served))
	}
}

func TestInjectFault(t *testing.T) {
	s, e := newTestServer(Options{})
	s.InjectFault("echo", "CreateThing", awsproto.Errorf(http.StatusConflict, "Boom", "injected"), 1)
	code, body := call(t, s, echoAuth, "CreateThing")
	if code != http.StatusConflict || !strings.Contains(body, "<Code>Boom</Code>") || !strings.Contains(body, "<Type>Sender</Type>") {
		t.Fatalf("first call: got %d %s", code, body)
	}
	if code, _ := call(t, s, echoAuth, "CreateThing"); code != http.StatusOK {
		t.Fatalf("second call: got %d, want the fault used up", code)
	}
	if diff := cmp.Diff([]string{"CreateThing"}, e.served); diff != "" {
		t.Errorf("served (-want +got):\n%s", diff)
	}
}

func TestCallMutating(t *testing.T) {
	for op, want := range map[string]bool{"CreateRole": true, "DescribeJobs": false, "ListRoles": false, "GetRole": false, "PutObject": true, "BatchGetTraces": false, "HeadBucket": false, "": false} {
		if got := (Call{"x", op}).Mutating(); got != want {
			t.Errorf("Call{%q}.Mutating() = %v, want %v", op, got, want)
		}
	}
}

func TestSamplePage(t *testing.T) {
	s := New(Options{})
	for _, tt := range []struct {
		query string
		code  int
	}{{"", 200}, {"?status=503", 503}, {"?status=abc", 400}, {"?delay=0s", 200}, {"?delay=1h", 400}} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566"+SamplePath+tt.query, nil))
		if rec.Code != tt.code {
			t.Errorf("GET %s%s = %d, want %d", SamplePath, tt.query, rec.Code, tt.code)
		}
	}
}
