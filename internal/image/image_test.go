package image

import (
	"archive/tar"
	"context"
	"debug/elf"
	"encoding/binary"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// fakeELF is the smallest ELF64 header debug/elf accepts, for machine:
// enough for CheckBinary, and fast to push.
func fakeELF(machine elf.Machine) []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(b[18:], uint16(machine))
	binary.LittleEndian.PutUint32(b[20:], 1)
	binary.LittleEndian.PutUint16(b[52:], 64) // header size
	binary.LittleEndian.PutUint16(b[54:], 56) // program header entry size
	binary.LittleEndian.PutUint16(b[58:], 64) // section header entry size
	return b
}

func TestPublishPushesOnceAndPullsBack(t *testing.T) {
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	repo := strings.TrimPrefix(reg.URL, "http://") + "/batchxray/test"
	p := &Publisher{Binary: fakeELF(elf.EM_AARCH64), Arch: "arm64", CABundle: []byte("-----BEGIN CERTIFICATE-----\n")}
	ctx := context.Background()

	ref, pushed, err := p.Publish(ctx, repo, "AWS", "pw", true)
	if err != nil || !pushed {
		t.Fatalf("dry run: ref %q pushed %v err %v, want a planned push", ref, pushed, err)
	}
	ref, pushed, err = p.Publish(ctx, repo, "AWS", "pw", false)
	if err != nil || !pushed {
		t.Fatalf("first publish: pushed %v err %v", pushed, err)
	}
	if !strings.HasSuffix(ref, ":"+p.Tag()) {
		t.Errorf("ref %q does not end with the binary's tag %q", ref, p.Tag())
	}
	if _, pushed, err := p.Publish(ctx, repo, "AWS", "pw", false); err != nil || pushed {
		t.Fatalf("second publish: pushed %v err %v, want nothing pushed", pushed, err)
	}

	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(tag, remote.WithAuth(authn.Anonymous))
	if err != nil {
		t.Fatalf("pull back: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || len(cf.Config.Entrypoint) != 0 || strings.Join(cf.Config.Cmd, " ") != BinaryPath+" job" {
		t.Errorf("config: os %s arch %s entrypoint %v cmd %v", cf.OS, cf.Architecture, cf.Config.Entrypoint, cf.Config.Cmd)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]int64{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files["/"+h.Name] = h.Size
	}
	if files[BinaryPath] != int64(len(p.Binary)) {
		t.Errorf("binary in image has %d bytes, want %d", files[BinaryPath], len(p.Binary))
	}
	if _, ok := files[CAPath]; !ok {
		t.Errorf("no CA bundle at %s; files: %v", CAPath, files)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	p := &Publisher{Binary: fakeELF(elf.EM_X86_64), Arch: "amd64", CABundle: []byte("x")}
	a, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds of one binary differ: %s and %s", da, db)
	}
}

func TestCheckBinary(t *testing.T) {
	amd64, arm64 := fakeELF(elf.EM_X86_64), fakeELF(elf.EM_AARCH64)
	tests := []struct {
		name string
		bin  []byte
		arch string
		want string
	}{
		{"amd64", amd64, "amd64", ""},
		{"arm64", arm64, "arm64", ""},
		{"wrong arch", amd64, "arm64", "is for EM_X86_64, but the compute environment is arm64"},
		{"not ELF", []byte("#!/bin/sh\n"), "amd64", "not a Linux executable"},
		{"unknown arch", amd64, "riscv64", "unknown architecture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBinary(tt.bin, tt.arch)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckBinary = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckBinary = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
