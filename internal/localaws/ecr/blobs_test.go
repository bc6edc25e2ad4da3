package ecr_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/batchxray/batchxray/internal/localaws"
)

// registryClient speaks the registry's upload protocol with net/http, to
// send what go-containerregistry's client never does (a wrong digest, a
// chunk out of order).
type registryClient struct {
	t        *testing.T
	h        http.Handler // nil: over the wire to base
	base     string
	repo     string
	password string
}

// do sends one request and returns the response's status, registry error
// code ("" when none) and headers.
func (c registryClient) do(method, path string, body io.Reader, header ...string) (int, string, http.Header) {
	c.t.Helper()
	if body == nil {
		body = http.NoBody // as a server gives a handler
	}
	req := must(http.NewRequest(method, c.base+path, body))(c.t)
	req.SetBasicAuth("AWS", c.password)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	var resp *http.Response
	if c.h != nil {
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, req)
		resp = rec.Result()
	} else {
		resp = must(http.DefaultClient.Do(req))(c.t)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	code := ""
	if i := bytes.Index(b, []byte(`"code":"`)); i >= 0 {
		code, _, _ = strings.Cut(string(b[i+len(`"code":"`):]), `"`)
	}
	return resp.StatusCode, code, resp.Header
}

// start begins an upload and returns its path.
func (c registryClient) start() string {
	c.t.Helper()
	status, code, h := c.do(http.MethodPost, "/v2/"+c.repo+"/blobs/uploads/", nil)
	if status != http.StatusAccepted || h.Get("Location") == "" {
		c.t.Fatalf("POST blobs/uploads/: %d %s, Location %q; want 202 with a Location", status, code, h.Get("Location"))
	}
	return h.Get("Location")
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newRegistryClient starts a stand-in with the repositories job and
// other, and returns a client of job's uploads.
func newRegistryClient(t *testing.T) (registryClient, *localaws.Server, *types.Repository) {
	srv, c := start(t, localaws.Options{})
	repo := createRepo(t, c, "job")
	createRepo(t, c, "other")
	host := strings.SplitN(aws.ToString(repo.RepositoryUri), "/", 2)[0]
	return registryClient{t: t, base: "http://" + host, repo: "job", password: login(t, srv, c).Password}, srv, repo
}

// An upload whose body is still coming holds up no other push: ECR takes
// layers in parallel, and the stand-in's scripts push at the same time.
func TestUploadsDoNotWaitForEachOther(t *testing.T) {
	rc, srv, repo := newRegistryClient(t)
	// The slow upload is served in-process, so that a Write to its body
	// returns only once the registry's handler has read it: the handler
	// is then inside the body, holding whatever it holds.
	slow := rc
	slow.h = srv
	loc := slow.start()
	pr, pw := io.Pipe()
	patched := make(chan int, 1)
	go func() {
		status, _, _ := slow.do(http.MethodPatch, loc, pr)
		patched <- status
	}()
	first := bytes.Repeat([]byte("a"), 1<<20)
	if _, err := pw.Write(first); err != nil {
		t.Fatal(err)
	}

	// Another push, whole, over the wire, while that body is open.
	img := must(random.Image(64<<10, 2))(t)
	pushCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := remote.Write(ref(t, repo, "other"), img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: rc.password}), remote.WithContext(pushCtx))
	if err != nil {
		t.Errorf("push while another upload's body is open: %v; want it to go through", err)
	}

	rest := []byte("the end")
	if _, err := pw.Write(rest); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	if status := <-patched; status != http.StatusAccepted {
		t.Fatalf("PATCH of the slow upload: %d, want 202", status)
	}
	blob := append(first, rest...)
	if status, code, _ := slow.do(http.MethodPut, loc+"?digest="+digestOf(blob), nil); status != http.StatusCreated {
		t.Fatalf("PUT of the slow upload: %d %s, want 201", status, code)
	}
	if status, code, h := rc.do(http.MethodHead, "/v2/job/blobs/"+digestOf(blob), nil); status != http.StatusOK || h.Get("Content-Length") != fmt.Sprint(len(blob)) {
		t.Errorf("HEAD of the slow upload's blob: %d %s, Content-Length %s; want 200, %d", status, code, h.Get("Content-Length"), len(blob))
	}
}

func TestUploadRules(t *testing.T) {
	rc, _, _ := newRegistryClient(t)
	other := rc
	other.repo = "other"
	blob := []byte("a layer's bytes")

	for _, tc := range []struct {
		name       string
		run        func() (int, string, http.Header)
		status     int
		code       string
		wantHeader [2]string
	}{
		{"an upload no POST started", func() (int, string, http.Header) {
			return rc.do(http.MethodPatch, "/v2/job/blobs/uploads/made-up", strings.NewReader("x"))
		}, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", [2]string{}},
		{"another repository's upload", func() (int, string, http.Header) {
			loc := rc.start()
			return other.do(http.MethodPut, strings.Replace(loc, "/job/", "/other/", 1)+"?digest="+digestOf(blob), bytes.NewReader(blob))
		}, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", [2]string{}},
		{"no digest", func() (int, string, http.Header) {
			return rc.do(http.MethodPut, rc.start(), bytes.NewReader(blob))
		}, http.StatusBadRequest, "DIGEST_INVALID", [2]string{}},
		{"a chunk out of order", func() (int, string, http.Header) {
			loc := rc.start()
			rc.do(http.MethodPatch, loc, bytes.NewReader(blob[:4]), "Content-Range", "0-3")
			return rc.do(http.MethodPatch, loc, bytes.NewReader(blob[8:]), "Content-Range", fmt.Sprintf("8-%d", len(blob)-1))
		}, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_UNKNOWN", [2]string{}},
		{"a stream after the first write", func() (int, string, http.Header) {
			loc := rc.start()
			rc.do(http.MethodPatch, loc, bytes.NewReader(blob[:4]))
			return rc.do(http.MethodPatch, loc, bytes.NewReader(blob[4:]))
		}, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", [2]string{}},
		{"chunks in order", func() (int, string, http.Header) {
			loc := rc.start()
			rc.do(http.MethodPatch, loc, bytes.NewReader(blob[:4]), "Content-Range", "0-3")
			return rc.do(http.MethodPatch, loc, bytes.NewReader(blob[4:]), "Content-Range", fmt.Sprintf("4-%d", len(blob)-1))
		}, http.StatusAccepted, "", [2]string{"Range", fmt.Sprintf("0-%d", len(blob)-1)}},
		{"a wrong digest, then the right one", func() (int, string, http.Header) {
			loc := rc.start()
			rc.do(http.MethodPatch, loc, bytes.NewReader(blob))
			if status, code, _ := rc.do(http.MethodPut, loc+"?digest="+digestOf([]byte("other bytes")), nil); status != http.StatusBadRequest || code != "DIGEST_INVALID" {
				t.Errorf("PUT with a wrong digest: %d %s, want 400 DIGEST_INVALID", status, code)
			}
			return rc.do(http.MethodPut, loc+"?digest="+digestOf(blob), nil)
		}, http.StatusCreated, "", [2]string{"Docker-Content-Digest", digestOf(blob)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc.t, other.t = t, t
			status, code, h := tc.run()
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
			if k := tc.wantHeader[0]; k != "" && h.Get(k) != tc.wantHeader[1] {
				t.Errorf("%s: %q, want %q", k, h.Get(k), tc.wantHeader[1])
			}
		})
	}
	rc.t = t
	if status, _, _ := rc.do(http.MethodGet, "/v2/job/blobs/"+digestOf(blob), nil); status != http.StatusOK {
		t.Errorf("GET of the uploaded blob: %d, want 200", status)
	}
}
