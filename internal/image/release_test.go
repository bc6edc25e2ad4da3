package image

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func testRelease(t *testing.T) v1.ImageIndex {
	t.Helper()
	idx, err := Release(map[string][]byte{"amd64": fakeELF(elf.EM_X86_64), "arm64": fakeELF(elf.EM_AARCH64)}, []byte("ca"))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestReleaseLayoutHasBothPlatformsWithTheirBinaries(t *testing.T) {
	dir := t.TempDir()
	if err := WriteLayout(dir, testRelease(t), "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil || len(tm.Manifests) != 1 || tm.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1.2.3" {
		t.Fatalf("layout index %s, %v; want one entry named v1.2.3", toJSONString(tm), err)
	}
	idx, err := top.ImageIndex(tm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	seen := map[string]bool{}
	for _, m := range im.Manifests {
		if m.Platform == nil || m.Platform.OS != "linux" {
			t.Fatalf("entry without a linux platform: %+v", m)
		}
		arch := m.Platform.Architecture
		seen[arch] = true
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != arch {
			t.Errorf("%s entry's config says %s", arch, cf.Architecture)
		}
		layers, _ := img.Layers()
		files := layerFiles(t, layers[0])
		f, err := elf.NewFile(bytes.NewReader(files[BinaryPath[1:]].data))
		if err != nil {
			t.Fatalf("%s: binary: %v", arch, err)
		}
		if f.Machine != want[arch] {
			t.Errorf("%s entry's binary is for %s, want %s", arch, f.Machine, want[arch])
		}
		if _, ok := files[CAPath[1:]]; !ok {
			t.Errorf("%s entry has no CA bundle", arch)
		}
	}
	if !seen["amd64"] || !seen["arm64"] || len(im.Manifests) != 2 {
		t.Errorf("platforms %v, want linux/amd64 and linux/arm64", seen)
	}
}

func TestReleaseRefusesAMissingOrWrongBinary(t *testing.T) {
	if _, err := Release(map[string][]byte{"amd64": fakeELF(elf.EM_X86_64)}, nil); err == nil || !strings.Contains(err.Error(), "no linux/arm64 binary") {
		t.Errorf("Release without arm64 = %v", err)
	}
	if _, err := Release(map[string][]byte{"amd64": fakeELF(elf.EM_X86_64), "arm64": fakeELF(elf.EM_X86_64)}, nil); err == nil || !strings.Contains(err.Error(), "compute environment is arm64") {
		t.Errorf("Release with an amd64 binary as arm64 = %v", err)
	}
}

func TestSourcePublisherCopiesOnePlatform(t *testing.T) {
	reg, host := newTestRegistry(t)
	ctx := context.Background()
	idx := testRelease(t)
	pushIndex(t, host+"/batchxray/release:v1.2.3", idx)
	im, _ := idx.IndexManifest()
	var armDigest v1.Hash
	for _, m := range im.Manifests {
		if m.Platform.Architecture == "arm64" {
			armDigest = m.Digest
		}
	}
	reg.reset()

	p := &SourcePublisher{Source: host + "/batchxray/release:v1.2.3", Arch: "arm64"}
	ref, pushed, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false)
	if err != nil || !pushed {
		t.Fatalf("Publish = %v, %v", pushed, err)
	}
	img := pull(t, ref)
	if got := mustDigest(t, img); got != armDigest.String() {
		t.Errorf("copied %s, want the index's arm64 image %s unchanged", got, armDigest)
	}
	if uploaded, mounted, _, _ := reg.counts(); len(mounted) == 0 || len(uploaded) != 0 {
		t.Errorf("uploaded %d blobs and mounted %d; want every blob mounted from the same registry", len(uploaded), len(mounted))
	}
	reg.reset()
	if _, pushed, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false); err != nil || pushed {
		t.Errorf("second Publish = %v, %v; want nothing pushed", pushed, err)
	}
	p.Arch = "s390x"
	if _, _, err := p.Publish(ctx, host+"/stack/jobs", "AWS", "pw", false); !errors.Is(err, ErrWrongArchitecture) {
		t.Errorf("Publish for s390x = %v, want ErrWrongArchitecture", err)
	}
}

func TestCheckImage(t *testing.T) {
	_, host := newTestRegistry(t)
	ctx := context.Background()
	def, err := (&Publisher{Binary: fakeELF(elf.EM_X86_64), Arch: "amd64", CABundle: []byte("ca")}).Build()
	if err != nil {
		t.Fatal(err)
	}
	pushImage(t, host+"/img/default:1", def)
	pushImage(t, host+"/img/plain:1", testBase(t, "amd64", baseConfig{cmd: []string{"sh"}}))
	withBinary := testBase(t, "amd64", baseConfig{cmd: []string{"sh"}}, tarLayer(t,
		testFile{name: "opt/batchxray/batchxray", mode: 0o755, data: fakeELF(elf.EM_X86_64)},
		testFile{name: "usr/local/bin/batchxray", link: "/opt/batchxray/batchxray"},
	))
	pushImage(t, host+"/img/linked:1", withBinary)
	removed := testBase(t, "amd64", baseConfig{cmd: []string{"sh"}}, tarLayer(t,
		testFile{name: "usr/local/bin/batchxray", mode: 0o755, data: fakeELF(elf.EM_X86_64)}),
		tarLayer(t, testFile{name: "usr/local/bin/.wh.batchxray", mode: 0o644}))
	pushImage(t, host+"/img/removed:1", removed)
	pushImage(t, host+"/img/entrypoint:1", testBase(t, "amd64", baseConfig{entrypoint: []string{"python3"}}, tarLayer(t,
		testFile{name: "usr/local/bin/batchxray", mode: 0o755, data: fakeELF(elf.EM_X86_64)})))

	tests := []struct {
		ref     string
		ok      bool
		path    string
		message string
	}{
		{"img/default:1", true, BinaryPath, "has batchxray at /usr/local/bin/batchxray"},
		{"img/linked:1", true, BinaryPath, "has batchxray at"},
		{"img/plain:1", false, "", "has no batchxray on its PATH (/usr/local/bin:/usr/bin:/bin): pass --base-image " + host + "/img/plain:1 to add it"},
		{"img/removed:1", false, "", "has no batchxray on its PATH"},
		{"img/entrypoint:1", false, BinaryPath, `its entrypoint "python3" would get ` + "`batchxray job`"},
		{"img/missing:1", false, "", "not checked for batchxray: cannot read image"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			c, err := CheckImage(ctx, host+"/"+tt.ref, "amd64", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.OK() != tt.ok || c.Path != tt.path || !strings.Contains(c.String(), tt.message) || strings.Contains(c.String(), "\n") {
				t.Errorf("CheckImage = ok %v path %q %q; want ok %v path %q and a line with %q", c.OK(), c.Path, c.String(), tt.ok, tt.path, tt.message)
			}
		})
	}
	if _, err := CheckImage(ctx, host+"/img/default:1", "arm64", nil, nil); !errors.Is(err, ErrWrongArchitecture) {
		t.Errorf("CheckImage for arm64 of an amd64 image = %v, want ErrWrongArchitecture", err)
	}
	if _, err := CheckImage(ctx, "bad ref", "amd64", nil, nil); !errors.Is(err, ErrBadReference) {
		t.Errorf("CheckImage of a bad reference = %v, want ErrBadReference", err)
	}
}

func TestSourceBinaryReadsThePlatformsBinary(t *testing.T) {
	_, host := newTestRegistry(t)
	ctx := context.Background()
	pushIndex(t, host+"/batchxray/release:v1.2.3", testRelease(t))
	src := host + "/batchxray/release:v1.2.3"
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		bin, err := SourceBinary(ctx, src, arch, nil, nil)
		if err != nil {
			t.Fatalf("SourceBinary(%s): %v", arch, err)
		}
		if !bytes.Equal(bin, fakeELF(machine)) {
			t.Errorf("SourceBinary(%s) is not the release's %s binary", arch, arch)
		}
	}
	if _, err := SourceBinary(ctx, src, "s390x", nil, nil); !errors.Is(err, ErrWrongArchitecture) {
		t.Errorf("SourceBinary(s390x) = %v, want ErrWrongArchitecture", err)
	}
	pushImage(t, host+"/other/debian:1", testBase(t, "amd64", baseConfig{}))
	if _, err := SourceBinary(ctx, host+"/other/debian:1", "amd64", nil, nil); err == nil || !strings.Contains(err.Error(), "has no batchxray at /usr/local/bin/batchxray") {
		t.Errorf("SourceBinary of an image without batchxray = %v", err)
	}
}
