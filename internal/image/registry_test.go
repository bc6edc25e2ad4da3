package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// testRegistry is go-containerregistry's in-process registry behind a
// handler that keeps blobs per repository, as ECR and the distribution
// registry do (the inner one shares every blob with every repository, so a
// HEAD would find a blob no push ever sent there): a repository holds a
// blob only once it was uploaded there or mounted into it from one that
// holds it. It counts what crosses the wire.
type testRegistry struct {
	inner http.Handler
	// private, when set, is a repository prefix that needs user:password.
	private, user, password string

	mu        sync.Mutex
	links     map[string]map[string]bool // repository → blob digests
	uploaded  []string                   // digests uploaded, in order
	mounted   []string                   // digests mounted
	manifests int                        // manifest PUTs
	bytesIn   int64                      // request body bytes
}

func newTestRegistry(t testing.TB) (*testRegistry, string) {
	r := &testRegistry{inner: registry.New(registry.Logger(discardLogger())), links: map[string]map[string]bool{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, strings.TrimPrefix(srv.URL, "http://")
}

// reset forgets what was counted.
func (r *testRegistry) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.uploaded, r.mounted, r.manifests, r.bytesIn = nil, nil, 0, 0
}

func (r *testRegistry) counts() (uploaded, mounted []string, manifests int, bytesIn int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.uploaded...), append([]string(nil), r.mounted...), r.manifests, r.bytesIn
}

type countingReader struct {
	r   io.ReadCloser
	reg *testRegistry
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.reg.mu.Lock()
	c.reg.bytesIn += int64(n)
	c.reg.mu.Unlock()
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (r *testRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Body != nil {
		req.Body = &countingReader{req.Body, r}
	}
	repo, kind, rest := splitRegistryPath(req.URL.Path)
	if r.private != "" && strings.HasPrefix(repo, r.private) {
		if u, p, ok := req.BasicAuth(); !ok || u != r.user || p != r.password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
	}
	q := req.URL.Query()
	switch {
	case kind == "blobs" && (req.Method == http.MethodHead || req.Method == http.MethodGet):
		if !r.has(repo, rest) {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`, http.StatusNotFound)
			return
		}
	case kind == "uploads" && req.Method == http.MethodPost && q.Get("mount") != "":
		if d, from := q.Get("mount"), q.Get("from"); r.has(from, d) {
			r.link(repo, d)
			r.mu.Lock()
			r.mounted = append(r.mounted, d)
			r.mu.Unlock()
			w.Header().Set("Docker-Content-Digest", d)
			w.Header().Set("Location", "/v2/"+repo+"/blobs/"+d)
			w.WriteHeader(http.StatusCreated)
			return
		}
	case kind == "manifests" && req.Method == http.MethodPut:
		r.mu.Lock()
		r.manifests++
		r.mu.Unlock()
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.inner.ServeHTTP(sw, req)
	if kind == "uploads" && (req.Method == http.MethodPut || req.Method == http.MethodPost) && q.Get("digest") != "" && sw.status == http.StatusCreated {
		r.link(repo, q.Get("digest"))
		r.mu.Lock()
		r.uploaded = append(r.uploaded, q.Get("digest"))
		r.mu.Unlock()
	}
}

func (r *testRegistry) has(repo, digest string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.links[repo][digest]
}

func (r *testRegistry) link(repo, digest string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.links[repo] == nil {
		r.links[repo] = map[string]bool{}
	}
	r.links[repo][digest] = true
}

// splitRegistryPath splits /v2/<repo>/blobs/<digest>,
// /v2/<repo>/blobs/uploads/<id> and /v2/<repo>/manifests/<ref>.
func splitRegistryPath(p string) (repo, kind, rest string) {
	e := strings.Split(strings.TrimPrefix(p, "/v2/"), "/")
	for i := len(e) - 2; i >= 1; i-- {
		switch {
		case e[i] == "blobs" && e[i+1] == "uploads":
			return strings.Join(e[:i], "/"), "uploads", strings.Join(e[i+2:], "/")
		case e[i] == "blobs" || e[i] == "manifests":
			return strings.Join(e[:i], "/"), e[i], strings.Join(e[i+1:], "/")
		}
	}
	return "", "", ""
}

// testFile is one file of a test layer.
type testFile struct {
	name string
	mode int64
	data []byte
	link string // symlink target
}

func tarLayer(t testing.TB, files ...testFile) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg}
		if f.link != "" {
			h.Typeflag, h.Size = tar.TypeSymlink, 0
			h.Linkname = f.link
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// baseConfig is how a test base image runs.
type baseConfig struct {
	entrypoint, cmd []string
}

// testBase is a Debian-like base for arch: a shell in /usr/bin, /bin a
// symlink to it, a PATH, a working directory, a user.
func testBase(t testing.TB, arch string, bc baseConfig, extra ...v1.Layer) v1.Image {
	t.Helper()
	layers := append([]v1.Layer{tarLayer(t,
		testFile{name: "usr/bin/sh", mode: 0o755, data: fakeELF(elfMachine(arch))},
		testFile{name: "bin", link: "usr/bin"},
		testFile{name: "etc/os-release", mode: 0o644, data: []byte("ID=test\n")},
	)}, extra...)
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	cf.Config.WorkingDir = "/work"
	cf.Config.User = "1000:1000"
	cf.Config.Entrypoint, cf.Config.Cmd = bc.entrypoint, bc.cmd
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func pushImage(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithAuth(authn.Anonymous)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func pushIndex(t testing.TB, ref string, idx v1.ImageIndex) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx, remote.WithAuth(authn.Anonymous)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func pull(t testing.TB, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithAuth(authn.Anonymous))
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	return img
}

func mustDigest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func pushImageAs(t testing.TB, ref string, img v1.Image, user, password string) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithAuth(&authn.Basic{Username: user, Password: password})); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func mustRegistry(t testing.TB, host string) name.Registry {
	t.Helper()
	r, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func toJSONString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
