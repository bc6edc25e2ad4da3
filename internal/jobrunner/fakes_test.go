package jobrunner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// xdoc is a segment or subsegment document as the daemon receives it, with
// the fields the tests look at.
type xdoc struct {
	TraceID    string  `json:"trace_id"`
	ID         string  `json:"id"`
	ParentID   string  `json:"parent_id"`
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Namespace  string  `json:"namespace"`
	StartTime  float64 `json:"start_time"`
	EndTime    float64 `json:"end_time"`
	InProgress bool    `json:"in_progress"`
	Error      bool    `json:"error"`
	Fault      bool    `json:"fault"`
	Cause      *struct {
		Exceptions []struct {
			Message string `json:"message"`
		} `json:"exceptions"`
	} `json:"cause"`
	HTTP *struct {
		Request struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
		Response struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
	AWS         map[string]any            `json:"aws"`
	Annotations map[string]any            `json:"annotations"`
	Metadata    map[string]map[string]any `json:"metadata"`
	Subsegments []*xdoc                   `json:"subsegments"`
}

// message is the first exception's message, or "".
func (d *xdoc) message() string {
	if d.Cause == nil || len(d.Cause.Exceptions) == 0 {
		return ""
	}
	return d.Cause.Exceptions[0].Message
}

// fakeDaemon is a loopback UDP listener standing in for the X-Ray daemon.
type fakeDaemon struct {
	conn net.PacketConn
}

func startDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &fakeDaemon{conn: c}
}

func (d *fakeDaemon) addr() string { return d.conn.LocalAddr().String() }

const header = `{"format": "json", "version": 1}` + "\n"

// trace reads datagrams until the complete root segment arrives (sent
// last, after the in-progress root and any streamed subsegments) and
// assembles them. Every datagram must carry the daemon's header and one
// document of one trace; every streamed subsegment must hang off a document
// of the trace.
type trace struct {
	root *xdoc
	// inProgress holds the root's in-progress documents, in arrival order.
	inProgress []*xdoc
	// all holds every complete document, nested ones included, by ID.
	all  map[string]*xdoc
	docs int
	raw  string
}

// next reads one document, failing the test if none arrives in 15 s.
func (d *fakeDaemon) next(t *testing.T) (*xdoc, []byte) {
	t.Helper()
	if err := d.conn.SetReadDeadline(time.Now().Add(15 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	n, _, err := d.conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read from the daemon's socket: %v", err)
	}
	p := buf[:n]
	if !bytes.HasPrefix(p, []byte(header)) {
		t.Fatalf("datagram without the daemon header: %q", p)
	}
	doc := &xdoc{}
	if err := json.Unmarshal(p[len(header):], doc); err != nil {
		t.Fatalf("decode %q: %v", p, err)
	}
	return doc, p
}

func (d *fakeDaemon) trace(t *testing.T) *trace {
	t.Helper()
	tr := &trace{all: map[string]*xdoc{}}
	var streamed []*xdoc
	var raw strings.Builder
	for tr.root == nil {
		doc, p := d.next(t)
		raw.Write(p)
		raw.WriteByte('\n')
		tr.docs++
		switch {
		case doc.Type == "subsegment":
			streamed = append(streamed, doc)
		case doc.InProgress:
			tr.inProgress = append(tr.inProgress, doc)
			continue
		default:
			tr.root = doc
		}
		tr.add(t, doc)
	}
	tr.raw = raw.String()
	for _, s := range streamed {
		if s.TraceID != tr.root.TraceID {
			t.Errorf("streamed subsegment %s is in trace %s, want %s", s.Name, s.TraceID, tr.root.TraceID)
		}
		if tr.all[s.ParentID] == nil {
			t.Errorf("streamed subsegment %s has parent %s, which is not in the trace", s.Name, s.ParentID)
		}
	}
	for _, ip := range tr.inProgress {
		if ip.ID != tr.root.ID || ip.TraceID != tr.root.TraceID {
			t.Errorf("in-progress segment %s/%s is not the root %s/%s", ip.TraceID, ip.ID, tr.root.TraceID, tr.root.ID)
		}
	}
	return tr
}

func (tr *trace) add(t *testing.T, d *xdoc) {
	if tr.all[d.ID] != nil {
		t.Errorf("document %s (%s) arrived twice", d.ID, d.Name)
	}
	tr.all[d.ID] = d
	for _, s := range d.Subsegments {
		tr.add(t, s)
	}
}

// named returns the documents called name, in start order.
func (tr *trace) named(name string) []*xdoc {
	var out []*xdoc
	for _, d := range tr.all {
		if d.Name == name {
			out = append(out, d)
		}
	}
	sortByStart(out)
	return out
}

// children returns the documents whose parent is id, nested or streamed.
func (tr *trace) children(id string) []*xdoc {
	var out []*xdoc
	for _, d := range tr.all {
		if d.ParentID == id && d.Type == "subsegment" {
			out = append(out, d)
		}
	}
	out = append(out, tr.all[id].Subsegments...)
	sortByStart(out)
	return out
}

func sortByStart(ds []*xdoc) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].StartTime < ds[j-1].StartTime; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// fakeS3 answers PutObject on path-style URLs as S3 does, or with the error
// status it was given, and keeps what it stored.
type fakeS3 struct {
	mu     sync.Mutex
	status int
	puts   map[string]string
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPut {
		http.Error(w, "unexpected "+r.Method, http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("x-amz-request-id", "REQ-LOCAL-1")
	w.Header().Set("x-amz-id-2", "host-id")
	if f.status != 0 {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>REQ-LOCAL-1</RequestId></Error>`)
		return
	}
	if f.puts == nil {
		f.puts = map[string]string{}
	}
	f.puts[r.URL.Path] = string(body)
	w.Header().Set("ETag", `"etag"`)
	w.WriteHeader(http.StatusOK)
}

func (f *fakeS3) stored() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for k, v := range f.puts {
		out[k] = v
	}
	return out
}

// origin serves the URLs the sample work fetches: /ok/<name> answers
// "body of <name>", /status/<code> answers with that status, /hang
// answers nothing until the request is cancelled, after closing arrived,
// and /gate answers once the test closes gate.
type origin struct {
	arrived chan struct{}
	once    sync.Once
	gate    chan struct{}
}

func startOrigin(t *testing.T) (*httptest.Server, *origin) {
	o := &origin{arrived: make(chan struct{}), gate: make(chan struct{})}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	return srv, o
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/ok/"):
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "body of %s", strings.TrimPrefix(r.URL.Path, "/ok/"))
	case strings.HasPrefix(r.URL.Path, "/status/"):
		var code int
		fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/status/"), &code)
		http.Error(w, http.StatusText(code), code)
	case r.URL.Path == "/gate":
		select {
		case <-o.gate:
			fmt.Fprint(w, "through the gate")
		case <-r.Context().Done():
		}
	case r.URL.Path == "/hang":
		o.once.Do(func() { close(o.arrived) })
		<-r.Context().Done()
	default:
		http.NotFound(w, r)
	}
}

// syncBuffer is a buffer the wrapped command's copying goroutines and the
// test can share; ready is closed once "ready" has been written.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{ready: make(chan struct{})} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if strings.Contains(s.b.String(), "ready") {
		s.once.Do(func() { close(s.ready) })
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// exitCode is what cmd/batchxray's exit mapping would see.
func exitCode(err error) int {
	var ec interface{ ExitCode() int }
	var ce *CommandExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ce):
		return ce.Code
	case errors.As(err, &ec):
		return ec.ExitCode()
	}
	return 1
}
