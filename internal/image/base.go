package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// JobEntrypoint is what the base image's entrypoint is prefixed with:
// `batchxray job --` runs what follows under tracing.
var JobEntrypoint = []string{BinaryPath, "job", "--"}

// BasePublisher builds the job image on the user's image (ko's base
// image): Base's filesystem plus one new top layer holding the batchxray
// binary at BinaryPath, for linux/Arch. Base's environment, working
// directory, user and command are kept; the entrypoint becomes
// `batchxray job --` followed by Base's, so every way Base runs (an
// entrypoint, a command only, a shell-form `sh -c` entrypoint) runs the
// same under tracing. It implements provision.ImagePublisher.
type BasePublisher struct {
	// Base is the user's image reference.
	Base string
	// Binary is the batchxray binary for linux/Arch.
	Binary []byte
	// Arch is amd64 or arm64: the compute environment's.
	Arch string
	// Credentials log in to Base's registry (nil: the docker config).
	Credentials *Credentials
	// Transport is the HTTP transport for the registries (default
	// remote.DefaultTransport).
	Transport http.RoundTripper
}

func (p *BasePublisher) client() client {
	if p.Credentials == nil {
		p.Credentials = &Credentials{}
	}
	return client{creds: p.Credentials, transport: p.Transport}
}

// Check reads Base for Arch and checks the binary, so that `up` can refuse
// bad input before it creates anything. Its errors are a *RefError, a
// *ReadError, an *ArchError, or the binary's.
func (p *BasePublisher) Check(ctx context.Context) error {
	if err := CheckBinary(p.Binary, p.Arch); err != nil {
		return err
	}
	_, _, err := p.client().platformImage(ctx, p.Base, p.Arch)
	return err
}

// Publish pushes the image to repository unless it is there, and returns
// its reference (repository:tag). The tag is the digest of Base's platform
// image and the binary, so an unchanged base and binary push nothing; a
// push sends only the new layer when Base is in the same registry (its
// layers are mounted). With dryRun it only looks. username and password
// log in to repository's registry (and to Base when it is there too).
func (p *BasePublisher) Publish(ctx context.Context, repository, username, password string, dryRun bool) (string, bool, error) {
	if err := CheckBinary(p.Binary, p.Arch); err != nil {
		return "", false, err
	}
	repo, err := ParseReference(repository)
	if err != nil {
		return "", false, err
	}
	r := p.client()
	// Base may be in the stack's registry: the same login reads it.
	r.creds.AddLogin(repo.Context().RegistryStr(), username, password)
	base, digest, err := r.platformImage(ctx, p.Base, p.Arch)
	if err != nil {
		return "", false, err
	}
	tag := BaseTag(digest, p.Binary)
	return r.push(ctx, repository, tag, username, password, dryRun, func() (v1.Image, error) {
		return OnBase(base, p.Binary)
	})
}

// BaseTag is the tag of the image built on the base whose platform
// manifest has digest base, with binary: both digests, hashed.
func BaseTag(base v1.Hash, binary []byte) string {
	bin := sha256.Sum256(binary)
	sum := sha256.Sum256([]byte("batchxray-base-1\n" + base.String() + "\n" + hex.EncodeToString(bin[:])))
	return "base-" + hex.EncodeToString(sum[:])[:24]
}

// OnBase returns base with binary added at BinaryPath in a new top layer
// and `batchxray job --` before its entrypoint. The result depends only on
// base and binary: no time is taken from the clock.
func OnBase(base v1.Image, binary []byte) (v1.Image, error) {
	mt, err := base.MediaType()
	if err != nil {
		return nil, fmt.Errorf("base image: %w", err)
	}
	layerType := types.DockerLayer
	if mt == types.OCIManifestSchema1 {
		layerType = types.OCILayer
	}
	layer, err := binaryLayer(binary, layerType)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: layerType,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "batchxray: add " + BinaryPath,
			Comment:   "the entrypoint runs the image's own under `batchxray job --`",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("add the binary's layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base image config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = WrapEntrypoint(cf.Config.Entrypoint)
	return mutate.ConfigFile(img, cf)
}

// WrapEntrypoint is the job image's entrypoint for a base whose entrypoint
// is ep: `batchxray job --` and then ep. The base's command is left as the
// default command, so the container's argv is the base's argv after
// `batchxray job --`, whatever the base sets: an entrypoint and a
// command, only a command, or a shell-form entrypoint (`/bin/sh -c "…"`).
//
// An entrypoint that already starts with `batchxray job --` (a base built
// by BasePublisher) is kept, so that re-basing does not trace twice.
func WrapEntrypoint(ep []string) []string {
	if len(ep) >= len(JobEntrypoint) && slices.Equal(ep[:len(JobEntrypoint)], JobEntrypoint) {
		return slices.Clone(ep)
	}
	return append(append([]string(nil), JobEntrypoint...), ep...)
}

// binaryLayer is a layer holding only the binary, executable by every
// user. It has no directory entries, so the base's /usr/local/bin keeps its
// owner and mode (the runtime creates missing parents).
func binaryLayer(binary []byte, mt types.MediaType) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	h := &tar.Header{Typeflag: tar.TypeReg, Name: BinaryPath[1:], Mode: 0o755, Size: int64(len(binary)), ModTime: epoch}
	if err := tw.WriteHeader(h); err != nil {
		return nil, err
	}
	if _, err := tw.Write(binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(mt))
	if err != nil {
		return nil, fmt.Errorf("build the binary's layer: %w", err)
	}
	return l, nil
}
