package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// benchBinary is a binary of n bytes that does not compress, as a real
// one nearly does not: an ELF header and random bytes.
func benchBinary(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	copy(b, fakeELF(elf.EM_X86_64))
	return b
}

// randomLayer is a gzipped layer holding one file of n random bytes.
func randomLayer(b *testing.B, n int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: "opt/data.bin", Mode: 0o644, Size: n, Typeflag: tar.TypeReg}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.CopyN(tw, rand.NewChaCha8([32]byte{2}), n); err != nil {
		b.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

const benchBinarySize = 16 << 20

// BenchmarkPublishOnBase is `up --base-image` of a 200 MiB base already in
// the stack's registry, to a new repository each time: what it sends to the
// registry (request bodies) over the size of the binary's layer, which is
// all that must move, and its wall time (ns/op).
func BenchmarkPublishOnBase(b *testing.B) {
	reg, host := newTestRegistry(b)
	gz := randomLayer(b, 200<<20)
	big, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(gz)), nil })
	if err != nil {
		b.Fatal(err)
	}
	pushImage(b, host+"/users/big:1", testBase(b, "amd64", baseConfig{cmd: []string{"sh"}}, big))
	bin := benchBinary(benchBinarySize)
	layer, err := binaryLayer(bin, types.DockerLayer)
	if err != nil {
		b.Fatal(err)
	}
	layerSize, err := layer.Size()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var sent int64
	n := 0
	for b.Loop() {
		reg.reset()
		p := &BasePublisher{Base: host + "/users/big:1", Binary: bin, Arch: "amd64"}
		if _, pushed, err := p.Publish(ctx, fmt.Sprintf("%s/stack/jobs%d", host, n), "AWS", "pw", false); err != nil || !pushed {
			b.Fatalf("Publish = %v, %v", pushed, err)
		}
		_, _, _, in := reg.counts()
		sent += in
		n++
	}
	b.ReportMetric(float64(sent)/float64(n)/float64(layerSize), "sent/layer")
	b.ReportMetric(float64(sent)/float64(n), "B-sent/op")
}

// BenchmarkPublishDefault is the default image's push of the same binary
// to a new repository each time, for BenchmarkPublishOnBase's wall time to
// be read against.
func BenchmarkPublishDefault(b *testing.B) {
	reg, host := newTestRegistry(b)
	bin := benchBinary(benchBinarySize)
	ctx := context.Background()
	var sent int64
	n := 0
	for b.Loop() {
		reg.reset()
		p := &Publisher{Binary: bin, Arch: "amd64", CABundle: []byte("ca")}
		if _, pushed, err := p.Publish(ctx, fmt.Sprintf("%s/stack/jobs%d", host, n), "AWS", "pw", false); err != nil || !pushed {
			b.Fatalf("Publish = %v, %v", pushed, err)
		}
		_, _, _, in := reg.counts()
		sent += in
		n++
	}
	b.ReportMetric(float64(sent)/float64(n), "B-sent/op")
}
