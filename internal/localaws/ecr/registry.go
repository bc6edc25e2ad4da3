package ecr

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
)

// Registry is the OCI registry the stand-in mounts at /v2/: the inner
// registry behind ECR's authentication, repositories and tag rules.
func (s *Service) Registry() http.Handler { return http.HandlerFunc(s.serveRegistry) }

func (s *Service) serveRegistry(w http.ResponseWriter, r *http.Request) {
	user, password, ok := r.BasicAuth()
	if !ok || user != "AWS" || !s.validPassword(password) {
		// The challenge makes registry clients retry with the Basic
		// credentials from GetAuthorizationToken.
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm=%q,service="ecr.amazonaws.com"`, s.proxyEndpoint()+"/"))
		msg := "authentication required: log in with the user AWS and the password from ecr:GetAuthorizationToken"
		if ok {
			msg = "Your authorization token is not valid or has expired. Reauthenticate and try again."
		}
		writeRegistryError(w, http.StatusUnauthorized, "UNAUTHORIZED", msg)
		return
	}
	repo, kind, ref := registryPath(r.URL.Path)
	if repo == "" {
		s.inner.ServeHTTP(w, r)
		return
	}
	s.mu.Lock()
	_, exists := s.repos[repo]
	s.mu.Unlock()
	if !exists {
		writeRegistryError(w, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, s.env.Account))
		return
	}
	if kind == "manifests" && (r.Method == http.MethodPut || r.Method == http.MethodDelete) {
		s.writeManifest(w, r, repo, ref)
		return
	}
	if kind == "blobs" && ref == "uploads" {
		kind, ref = "uploads", "" // POST /v2/<name>/blobs/uploads
	}
	if kind == "uploads" && s.uploads.serve(w, r, repo, ref) {
		return
	}
	s.inner.ServeHTTP(w, r)
}

// registryPath splits a registry path into the repository name, what is
// asked of it (manifests, blobs, uploads, tags, referrers) and the
// reference after it (an upload's ID, "" for /blobs/uploads/ itself).
// Repository names may contain slashes, so the kind is found from the end.
// A path with no repository (/v2/, /v2/_catalog) has repo "".
func registryPath(path string) (repo, kind, ref string) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return "", "", ""
	}
	e := strings.Split(rest, "/")
	n := len(e)
	switch {
	case n >= 4 && e[n-3] == "blobs" && e[n-2] == "uploads":
		return strings.Join(e[:n-3], "/"), "uploads", e[n-1]
	case n >= 3 && (e[n-2] == "manifests" || e[n-2] == "blobs" || e[n-2] == "tags" || e[n-2] == "referrers"):
		return strings.Join(e[:n-2], "/"), e[n-2], e[n-1]
	}
	return "", "", ""
}

// writeManifest puts or deletes a manifest in the registry and the index
// together, under the service's lock.
func (s *Service) writeManifest(w http.ResponseWriter, r *http.Request, repoName, ref string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeRegistryError(w, http.StatusBadRequest, "MANIFEST_INVALID", "read manifest: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, ok := s.repos[repoName]
	if !ok {
		writeRegistryError(w, http.StatusNotFound, "NAME_UNKNOWN",
			fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repoName, s.env.Account))
		return
	}

	if r.Method == http.MethodDelete {
		id := imageID{ImageTag: ref}
		if isDigest(ref) {
			id = imageID{ImageDigest: ref}
		}
		img, fail := repo.resolve(id)
		if fail != nil {
			writeRegistryError(w, http.StatusNotFound, "MANIFEST_UNKNOWN", fail.FailureReason)
			return
		}
		s.deleteImage(repo, img, id)
		w.WriteHeader(http.StatusAccepted)
		return
	}

	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if isDigest(ref) && ref != digest {
		writeRegistryError(w, http.StatusBadRequest, "DIGEST_INVALID", "manifest digest "+digest+" does not match "+ref)
		return
	}
	if old, tagged := repo.tagDigest[ref]; tagged && old != digest && repo.immutable() {
		writeRegistryError(w, http.StatusBadRequest, "TAG_INVALID", fmt.Sprintf(
			"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", ref, repoName))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, r)
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	if rec.Code == http.StatusCreated {
		s.recordPush(repo, ref, digest, r.Header.Get("Content-Type"), body)
	}
}

// writeRegistryError writes an error in the registry protocol's shape.
func writeRegistryError(w http.ResponseWriter, status int, code, message string) {
	type regErr struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Errors []regErr `json:"errors"`
	}{[]regErr{{code, message}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
