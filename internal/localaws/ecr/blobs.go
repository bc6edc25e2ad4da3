package ecr

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Blob uploads are served here, not by the inner registry, which holds
// one lock across each upload's request body: every push to the stand-in
// then waited for the one before it, where ECR takes layers in parallel.
// Here a lock guards only the maps; a body is read with none held but its
// own upload's, and a blob goes into the store once its digest is checked.
// The answers are the inner registry's (status, code, Location, Range),
// except that an upload ID no POST started is BLOB_UPLOAD_UNKNOWN, as the
// distribution spec has it, where the inner registry made up an empty one.

// blobStore holds the registry's blobs by digest for every repository, as
// the inner registry keeps them. It is the inner registry's blob handler,
// so pulls and HEADs read what uploads put here.
type blobStore struct {
	mu    sync.Mutex
	blobs map[string][]byte
}

var (
	_ registry.BlobHandler       = (*blobStore)(nil)
	_ registry.BlobStatHandler   = (*blobStore)(nil)
	_ registry.BlobPutHandler    = (*blobStore)(nil)
	_ registry.BlobDeleteHandler = (*blobStore)(nil)
)

func newBlobStore() *blobStore { return &blobStore{blobs: map[string][]byte{}} }

func (b *blobStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	b.mu.Lock()
	blob, ok := b.blobs[h.String()]
	b.mu.Unlock()
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(blob)), nil
}

func (b *blobStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	blob, ok := b.blobs[h.String()]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(blob)), nil
}

// Put stores what rc holds; the inner registry hands it a reader that
// fails on a wrong digest or size, and that error is returned as it is.
func (b *blobStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer func() { _ = rc.Close() }()
	blob, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	b.put(h.String(), blob)
	return nil
}

func (b *blobStore) put(digest string, blob []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blobs[digest] = blob
}

func (b *blobStore) Delete(_ context.Context, _ string, h v1.Hash) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.blobs[h.String()]; !ok {
		return registry.ErrNotFound
	}
	delete(b.blobs, h.String())
	return nil
}

// uploads are the blob uploads POST has started and PUT not yet finished.
type uploads struct {
	store *blobStore

	mu   sync.Mutex
	open map[string]*upload
}

// upload is one upload session. Its lock is held across a request body,
// so the chunks of one upload go in one at a time, in order.
type upload struct {
	repo string

	mu      sync.Mutex
	data    bytes.Buffer
	written bool // a PATCH has been taken: a stream may not follow
}

func newUploads(store *blobStore) *uploads {
	return &uploads{store: store, open: map[string]*upload{}}
}

// serve answers the upload requests it takes (POST without a digest,
// PATCH and PUT of an upload) and reports whether it took r. The others,
// such as a monolithic POST with the blob's digest, go to the inner
// registry. repo exists; id is the upload's ID, "" for a POST.
func (u *uploads) serve(w http.ResponseWriter, r *http.Request, repo, id string) bool {
	switch {
	case r.Method == http.MethodPost && id == "" && r.URL.Query().Get("digest") == "":
		u.start(w, repo)
	case r.Method == http.MethodPatch && id != "":
		u.patch(w, r, repo, id)
	case r.Method == http.MethodPut && id != "":
		u.finish(w, r, repo, id)
	default:
		return false
	}
	return true
}

func (u *uploads) start(w http.ResponseWriter, repo string) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	u.mu.Lock()
	u.open[id] = &upload{repo: repo}
	u.mu.Unlock()
	w.Header().Set("Location", uploadLocation(repo, id))
	w.Header().Set("Range", "0-0")
	w.WriteHeader(http.StatusAccepted)
}

// session returns the upload id of repo, locked, or writes
// BLOB_UPLOAD_UNKNOWN.
func (u *uploads) session(w http.ResponseWriter, repo, id string) *upload {
	u.mu.Lock()
	up, ok := u.open[id]
	u.mu.Unlock()
	if !ok || up.repo != repo {
		writeRegistryError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
		return nil
	}
	up.mu.Lock()
	return up
}

func (u *uploads) patch(w http.ResponseWriter, r *http.Request, repo, id string) {
	up := u.session(w, repo, id)
	if up == nil {
		return
	}
	defer up.mu.Unlock()
	if cr := r.Header.Get("Content-Range"); cr != "" {
		var start, end int
		if _, err := fmt.Sscanf(cr, "%d-%d", &start, &end); err != nil {
			writeRegistryError(w, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_UNKNOWN", "We don't understand your Content-Range")
			return
		}
		if start != up.data.Len() {
			writeRegistryError(w, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_UNKNOWN", "Your content range doesn't match what we have")
			return
		}
	} else if up.written {
		writeRegistryError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "Stream uploads after first write are not allowed")
		return
	}
	if r.ContentLength > 0 {
		up.data.Grow(int(r.ContentLength))
	}
	if _, err := up.data.ReadFrom(r.Body); err != nil {
		writeRegistryError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "read the chunk: "+err.Error())
		return
	}
	up.written = true
	w.Header().Set("Location", uploadLocation(repo, id))
	w.Header().Set("Range", fmt.Sprintf("0-%d", up.data.Len()-1))
	w.WriteHeader(http.StatusAccepted)
}

// finish takes the last chunk (the PUT's body, often empty), checks the
// digest and stores the blob. A digest that does not match leaves the
// upload as it was, as in the inner registry.
func (u *uploads) finish(w http.ResponseWriter, r *http.Request, repo, id string) {
	digest := r.URL.Query().Get("digest")
	if digest == "" {
		writeRegistryError(w, http.StatusBadRequest, "DIGEST_INVALID", "digest not specified")
		return
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		writeRegistryError(w, http.StatusBadRequest, "NAME_INVALID", "invalid digest")
		return
	}
	up := u.session(w, repo, id)
	if up == nil {
		return
	}
	defer up.mu.Unlock()
	last, err := io.ReadAll(r.Body)
	if err != nil {
		writeRegistryError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "read the chunk: "+err.Error())
		return
	}
	hasher, err := v1.Hasher(h.Algorithm)
	if err != nil {
		writeRegistryError(w, http.StatusBadRequest, "NAME_INVALID", "invalid digest")
		return
	}
	hasher.Write(up.data.Bytes())
	hasher.Write(last)
	if hex.EncodeToString(hasher.Sum(nil)) != h.Hex {
		writeRegistryError(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match contents")
		return
	}
	u.mu.Lock()
	delete(u.open, id)
	u.mu.Unlock()
	blob := up.data.Bytes()
	if len(last) > 0 {
		blob = append(blob, last...)
	}
	u.store.put(h.String(), blob)
	w.Header().Set("Docker-Content-Digest", h.String())
	w.WriteHeader(http.StatusCreated)
}

func uploadLocation(repo, id string) string {
	return "/v2/" + repo + "/blobs/uploads/" + id
}
