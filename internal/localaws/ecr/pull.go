package ecr

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Image is the image ref names when it is in this registry, for the
// stand-in's other services (Batch reads a job's image to start its
// container as ECS would). ours is false for a reference to another
// registry, which the stand-in cannot read; err is a pull that fails (no
// such repository or tag), worded as the registry words it.
func (s *Service) Image(ref string) (img v1.Image, ours bool, err error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, false, nil
	}
	if !s.ownRegistry(r.Context().RegistryStr()) {
		return nil, false, nil
	}
	img, err = remote.Image(r, remote.WithTransport(inProcess{s.inner}))
	if err != nil {
		return nil, true, fmt.Errorf("pull %s: %w", ref, err)
	}
	return img, true, nil
}

// ownRegistry reports whether host is this registry: the stand-in's own
// address (or the same port under another loopback name), or the ECR
// registry host of its account and region.
func (s *Service) ownRegistry(host string) bool {
	own := s.registryHost()
	if host == own || host == s.env.Account+".dkr.ecr."+s.env.Region+".amazonaws.com" {
		return true
	}
	h, port, err := net.SplitHostPort(host)
	_, ownPort, oerr := net.SplitHostPort(own)
	if err != nil || oerr != nil || port != ownPort {
		return false
	}
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

// inProcess serves registry requests from the registry's handler without
// a network round trip or ECR's authentication: the pull is the
// stand-in's own.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
