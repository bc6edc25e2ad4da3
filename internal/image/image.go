package image

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Paths inside the image.
const (
	BinaryPath = "/usr/local/bin/batchxray"
	CAPath     = "/etc/ssl/certs/ca-certificates.crt"
)

// caBundles are where common systems keep their CA bundle.
var caBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
	"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL, Amazon Linux
	"/etc/ssl/cert.pem",                  // macOS, OpenBSD
}

// FindCABundle returns the first CA bundle found on this machine.
func FindCABundle() ([]byte, error) {
	for _, p := range caBundles {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("no CA bundle found (looked in %v): the job needs one to call AWS over TLS", caBundles)
}

// Publisher builds the image from a binary and pushes it.
type Publisher struct {
	// Binary is the batchxray binary for linux/Arch.
	Binary []byte
	// Arch is amd64 or arm64.
	Arch string
	// CABundle is the PEM bundle the job trusts.
	CABundle []byte
	// Transport is the HTTP transport for the registry (default
	// remote.DefaultTransport).
	Transport http.RoundTripper
}

// defaultRecipe names how Build lays the image out; it is part of the tag,
// so an image built the old way is not mistaken for the new one.
const defaultRecipe = "batchxray-default-2"

// Tag is the image tag for the binary: its digest (with the recipe's), so
// the same binary is never pushed twice.
func (p *Publisher) Tag() string {
	bin := sha256.Sum256(p.Binary)
	sum := sha256.Sum256([]byte(defaultRecipe + "\n" + hex.EncodeToString(bin[:])))
	return "bin-" + hex.EncodeToString(sum[:])[:20]
}

// Publish pushes the image to repository unless the tag is already there,
// and returns its reference (repository:tag). With dryRun it only looks.
func (p *Publisher) Publish(ctx context.Context, repository, username, password string, dryRun bool) (string, bool, error) {
	return client{transport: p.Transport}.push(ctx, repository, p.Tag(), username, password, dryRun, p.Build)
}

// epoch is every file's and the image's time, so the same binary always
// makes the same digest.
var epoch = time.Unix(0, 0).UTC()

// Build returns the image: one layer with the binary and the CA bundle on
// an empty base, for linux/Arch.
func (p *Publisher) Build() (v1.Image, error) {
	if err := CheckBinary(p.Binary, p.Arch); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := []string{"usr/", "usr/local/", "usr/local/bin/", "etc/", "etc/ssl/", "etc/ssl/certs/", "tmp/"}
	for _, d := range dirs {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		path string
		mode int64
		data []byte
	}{
		{BinaryPath[1:], 0o755, p.Binary},
		{CAPath[1:], 0o644, p.CABundle},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("build layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", p.Arch
	cf.Created = v1.Time{Time: epoch}
	// No entrypoint: the job definition's command (`batchxray job`, found
	// on PATH) is the container's argv as it is, as with --image.
	cf.Config.Entrypoint = nil
	cf.Config.Cmd = []string{BinaryPath, "job"}
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=" + CAPath}
	cf.Config.Labels = map[string]string{"org.opencontainers.image.title": "batchxray job"}
	return mutate.ConfigFile(img, cf)
}

// CheckBinary checks that b is a Linux executable for arch, so a macOS or
// wrong-architecture binary is refused before it is pushed.
func CheckBinary(b []byte, arch string) error {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("the job binary is not a Linux executable (ELF): %w", err)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[arch]
	if want == 0 {
		return fmt.Errorf("unknown architecture %q: want amd64 or arm64", arch)
	}
	if f.Machine != want {
		return fmt.Errorf("the job binary is for %s, but the compute environment is %s", f.Machine, arch)
	}
	return nil
}
