package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ParseReference parses an image reference (registry/repository:tag or
// @digest) as registries do, or returns a *RefError.
func ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, &RefError{Ref: ref, Err: err}
	}
	return r, nil
}

// client is what reading and writing images needs: the logins and the
// HTTP transport.
type client struct {
	creds     *Credentials
	transport http.RoundTripper
}

func (r client) options(ctx context.Context, reg name.Registry) ([]remote.Option, string, error) {
	creds := r.creds
	if creds == nil {
		creds = &Credentials{}
	}
	auth, what, err := creds.resolve(ctx, reg)
	if err != nil {
		return nil, what, err
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(auth)}
	if r.transport != nil {
		opts = append(opts, remote.WithTransport(r.transport))
	}
	return opts, what, nil
}

// platformImage reads ref and returns its image for linux/arch: the
// index's entry for it, or the image itself when it is for arch. Its
// digest is the platform image's manifest digest.
func (r client) platformImage(ctx context.Context, refStr, arch string) (v1.Image, v1.Hash, error) {
	ref, err := ParseReference(refStr)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	opts, what, err := r.options(ctx, ref.Context().Registry)
	unreadable := func(err error) error {
		return &ReadError{Ref: refStr, Registry: ref.Context().RegistryStr(), Credential: what, Err: err}
	}
	if err != nil {
		return nil, v1.Hash{}, unreadable(err)
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, v1.Hash{}, unreadable(err)
	}
	want := "linux/" + arch
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, v1.Hash{}, unreadable(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, v1.Hash{}, unreadable(err)
		}
		var have []string
		for _, m := range im.Manifests {
			if m.Platform == nil || !m.MediaType.IsImage() {
				continue
			}
			if m.Platform.OS == "linux" && m.Platform.Architecture == arch && armV8(m.Platform) {
				img, err := idx.Image(m.Digest)
				if err != nil {
					return nil, v1.Hash{}, unreadable(err)
				}
				return img, m.Digest, nil
			}
			if m.Platform.OS != "unknown" { // attestations
				have = append(have, platformString(m.Platform))
			}
		}
		return nil, v1.Hash{}, &ArchError{Ref: refStr, Want: want, Have: have, Index: true}
	}
	img, err := desc.Image()
	if err != nil {
		return nil, v1.Hash{}, unreadable(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, v1.Hash{}, unreadable(fmt.Errorf("read its config: %w", err))
	}
	if cf.OS != "linux" || cf.Architecture != arch {
		return nil, v1.Hash{}, &ArchError{Ref: refStr, Want: want, Have: []string{cf.OS + "/" + cf.Architecture}}
	}
	return img, desc.Digest, nil
}

// armV8 says whether p's variant runs on the 64-bit ARM that Batch's
// Graviton instances are (v8 or later, or none given).
func armV8(p *v1.Platform) bool {
	return p.Architecture != "arm64" || p.Variant == "" || p.Variant >= "v8"
}

func platformString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// exists says whether ref is in its registry.
func exists(ref name.Reference, opts []remote.Option) (bool, error) {
	_, err := remote.Head(ref, opts...)
	var terr *transport.Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("look for image %s: %w", ref, err)
}

// push writes the image build makes to repository:tag unless that tag is
// there already, and returns the reference and whether it pushed. With
// dryRun it only looks. Layers read from the same registry are mounted,
// not sent (remote.Write does it for layers that remember their
// repository).
func (r client) push(ctx context.Context, repository, tag, username, password string, dryRun bool, build func() (v1.Image, error)) (string, bool, error) {
	ref, err := name.NewTag(repository + ":" + tag)
	if err != nil {
		return "", false, &RefError{Ref: repository + ":" + tag, Err: err}
	}
	creds := r.creds
	if creds == nil {
		creds = &Credentials{}
	}
	creds.AddLogin(ref.RegistryStr(), username, password)
	r.creds = creds
	opts, _, err := r.options(ctx, ref.Context().Registry)
	if err != nil {
		return "", false, err
	}
	there, err := exists(ref, opts)
	if err != nil || there {
		return ref.String(), false, err
	}
	if dryRun {
		return ref.String(), true, nil
	}
	img, err := build()
	if err != nil {
		return "", false, err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return "", false, fmt.Errorf("push image %s: %w", ref, err)
	}
	return ref.String(), true, nil
}
