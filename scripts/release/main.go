// Command release finishes `make release` once scripts/release.sh has
// cross-built the binaries into the dist directory: it writes their
// SHA256 checksums (SHA256SUMS, in sha256sum's format) and the
// multi-architecture job image (linux/amd64 and linux/arm64, each the
// empty base with the binary and a CA bundle, as `up`'s default image) as
// an OCI image layout in dist/image, its one entry named by the version.
// With -push REF it also pushes that index to REF (the docker config's
// login), for example image.PublicImage(version).
//
//	go run ./scripts/release -version v1.2.3 -dist dist [-push ghcr.io/batchxray/batchxray:v1.2.3]
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/batchxray/batchxray/internal/image"
)

func main() {
	version := flag.String("version", "", "the release's version (the image layout's tag)")
	dist := flag.String("dist", "dist", "where the binaries are, and where the checksums and the image go")
	caPath := flag.String("ca", "", "the CA bundle for the image (default: this machine's)")
	push := flag.String("push", "", "push the image index to this reference too")
	flag.Parse()
	if err := run(*version, *dist, *caPath, *push); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(version, dist, caPath, push string) error {
	if version == "" {
		return fmt.Errorf("-version is required")
	}
	bins, err := filepath.Glob(filepath.Join(dist, "batchxray_*"))
	if err != nil {
		return err
	}
	sort.Strings(bins)
	if len(bins) == 0 {
		return fmt.Errorf("no batchxray_* binaries in %s: run scripts/release.sh", dist)
	}
	var sums strings.Builder
	linux := map[string][]byte{}
	for _, p := range bins {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(p))
		for _, arch := range image.ReleaseArchs {
			if strings.HasSuffix(filepath.Base(p), "_linux_"+arch) {
				linux[arch] = b
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		return err
	}
	var ca []byte
	if caPath != "" {
		ca, err = os.ReadFile(caPath)
	} else {
		ca, err = image.FindCABundle()
	}
	if err != nil {
		return err
	}
	idx, err := image.Release(linux, ca)
	if err != nil {
		return err
	}
	out := filepath.Join(dist, "image")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := image.WriteLayout(out, idx, version); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s/SHA256SUMS (%d files) and the job image %s (%s) in %s\n", dist, len(bins), version, d, out)
	if push == "" {
		fmt.Fprintf(os.Stderr, "push it with: go run ./scripts/release -version %s -dist %s -push %s\n", version, dist, image.PublicImage(version))
		return nil
	}
	ref, err := name.ParseReference(push)
	if err != nil {
		return fmt.Errorf("-push: %w", err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	fmt.Fprintf(os.Stderr, "pushed %s\n", ref)
	return nil
}
