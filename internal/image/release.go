package image

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// PublicRepository is where `make release` images are published, one tag
// a version: the default source for a machine whose own binary cannot go
// into the job image (macOS, Windows, another architecture).
const PublicRepository = "ghcr.io/batchxray/batchxray"

// PublicImage is the published job image of version.
func PublicImage(version string) string {
	return PublicRepository + ":" + version
}

// ReleaseArchs are the architectures of the published job image.
var ReleaseArchs = []string{"amd64", "arm64"}

// Release builds the multi-architecture job image: an index of the
// default image (Publisher.Build: the empty base with the binary and ca)
// for each of ReleaseArchs, from binaries (arch → linux binary).
func Release(binaries map[string][]byte, ca []byte) (v1.ImageIndex, error) {
	idx := v1.ImageIndex(empty.Index)
	for _, arch := range ReleaseArchs {
		bin, ok := binaries[arch]
		if !ok {
			return nil, fmt.Errorf("release image: no linux/%s binary", arch)
		}
		img, err := (&Publisher{Binary: bin, Arch: arch, CABundle: ca}).Build()
		if err != nil {
			return nil, fmt.Errorf("release image for linux/%s: %w", arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		})
	}
	return idx, nil
}

// WriteLayout writes idx as an OCI image layout in dir, its one entry
// named tag (org.opencontainers.image.ref.name), ready to be pushed.
func WriteLayout(dir string, idx v1.ImageIndex, tag string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write image layout %s: %w", dir, err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag})); err != nil {
		return fmt.Errorf("write image layout %s: %w", dir, err)
	}
	return nil
}

// SourcePublisher copies one platform of a published job image (an index
// such as PublicImage's) into the stack's repository, for `up` on a machine
// whose own binary cannot go into the image. It implements
// provision.ImagePublisher.
type SourcePublisher struct {
	// Source is the published image (default PublicImage of the version).
	Source string
	// Arch is amd64 or arm64: the compute environment's.
	Arch string
	// Credentials log in to Source's registry (nil: the docker config).
	Credentials *Credentials
	// Transport is the HTTP transport for the registries.
	Transport http.RoundTripper
}

// Publish copies Source's linux/Arch image into repository unless it is
// there, and returns its reference; the tag is the copied image's digest,
// so a second copy pushes nothing. Its errors are those of BasePublisher.
func (p *SourcePublisher) Publish(ctx context.Context, repository, username, password string, dryRun bool) (string, bool, error) {
	repo, err := ParseReference(repository)
	if err != nil {
		return "", false, err
	}
	if p.Credentials == nil {
		p.Credentials = &Credentials{}
	}
	p.Credentials.AddLogin(repo.Context().RegistryStr(), username, password)
	c := client{creds: p.Credentials, transport: p.Transport}
	img, digest, err := c.platformImage(ctx, p.Source, p.Arch)
	if err != nil {
		return "", false, err
	}
	tag := "src-" + digest.Hex[:24]
	return c.push(ctx, repository, tag, username, password, dryRun, func() (v1.Image, error) { return img, nil })
}

// SourceBinary reads the batchxray binary at BinaryPath from source's
// linux/arch image (a published job image such as PublicImage's), for
// `up --base-image` on a machine whose own binary cannot go into the
// image. Its errors are a *RefError, a *ReadError, an *ArchError, or one
// saying the image has no binary for arch or could not be read.
func SourceBinary(ctx context.Context, source, arch string, creds *Credentials, rt http.RoundTripper) ([]byte, error) {
	img, _, err := client{creds: creds, transport: rt}.platformImage(ctx, source, arch)
	if err != nil {
		return nil, err
	}
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("image %s has no batchxray at %s for linux/%s", source, BinaryPath, arch)
		}
		if err != nil {
			return nil, fmt.Errorf("read image %s: %w", source, err)
		}
		if path.Clean("/"+h.Name) != BinaryPath || h.Typeflag != tar.TypeReg {
			continue
		}
		bin, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read image %s: %w", source, err)
		}
		if err := CheckBinary(bin, arch); err != nil {
			return nil, fmt.Errorf("image %s: %w", source, err)
		}
		return bin, nil
	}
}
