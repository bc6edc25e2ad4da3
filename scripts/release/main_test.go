package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/batchxray/batchxray/internal/image"
)

// fakeELF is the smallest ELF64 header debug/elf accepts, for machine.
func fakeELF(machine elf.Machine) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(b[18:], uint16(machine))
	binary.LittleEndian.PutUint32(b[20:], 1)
	binary.LittleEndian.PutUint16(b[52:], 64)
	binary.LittleEndian.PutUint16(b[54:], 56)
	binary.LittleEndian.PutUint16(b[58:], 64)
	return b
}

func TestRunWritesChecksumsAndTheImageLayout(t *testing.T) {
	dist := t.TempDir()
	files := map[string][]byte{
		"batchxray_v1_linux_amd64":       fakeELF(elf.EM_X86_64),
		"batchxray_v1_linux_arm64":       fakeELF(elf.EM_AARCH64),
		"batchxray_v1_darwin_arm64":      []byte("mach-o"),
		"batchxray_v1_windows_amd64.exe": []byte("MZ"),
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dist, n), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("ca"), 0o644)
	if err := run("v1", dist, ca, ""); err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("SHA256SUMS has %d lines, want %d:\n%s", len(lines), len(files), sums)
	}
	for _, l := range lines {
		sum, n, _ := strings.Cut(l, "  ")
		want := sha256.Sum256(files[n])
		if sum != hex.EncodeToString(want[:]) {
			t.Errorf("checksum of %s is %s, want %x", n, sum, want)
		}
	}
	idx, err := layout.ImageIndexFromPath(filepath.Join(dist, "image"))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1" {
		t.Fatalf("layout entries %+v, want one named v1", im.Manifests)
	}
	checkJobImage(t, idx, im.Manifests[0].Digest, map[string][]byte{
		"amd64": files["batchxray_v1_linux_amd64"],
		"arm64": files["batchxray_v1_linux_arm64"],
	})
	if err := run("v1", t.TempDir(), ca, ""); err == nil || !strings.Contains(err.Error(), "no batchxray_* binaries") {
		t.Errorf("run on an empty dist = %v", err)
	}
}

// checkJobImage checks that the layout's entry digest is the job image
// index: one linux image per architecture of want, each holding that
// architecture's binary at image.BinaryPath, and nothing else.
func checkJobImage(t *testing.T, top v1.ImageIndex, digest v1.Hash, want map[string][]byte) {
	t.Helper()
	idx, err := top.ImageIndex(digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range im.Manifests {
		if m.Platform == nil || m.Platform.OS != "linux" || want[m.Platform.Architecture] == nil || seen[m.Platform.Architecture] {
			t.Errorf("unexpected entry %+v", m.Platform)
			continue
		}
		arch := m.Platform.Architecture
		seen[arch] = true
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if cf, err := img.ConfigFile(); err != nil || cf.OS != "linux" || cf.Architecture != arch {
			t.Errorf("linux/%s entry's config: %v", arch, err)
		}
		if got := fileIn(t, img, image.BinaryPath); !bytes.Equal(got, want[arch]) {
			t.Errorf("linux/%s entry's %s is %d bytes, not the release's linux/%s binary", arch, image.BinaryPath, len(got), arch)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("platforms %v, want linux/ of each of %d architectures", seen, len(want))
	}
}

// fileIn is the content of the file at p in img's merged filesystem.
func fileIn(t *testing.T, img v1.Image, p string) []byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		if path.Clean("/"+h.Name) == p {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}
