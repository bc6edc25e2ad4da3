package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// cmdPushImage is the script command `pushimage KIND REPO:TAG VAR`: it
// creates the ECR repository REPO on the stand-in at $AWS_ENDPOINT_URL,
// pushes an image of KIND to it with the registry login ECR gives, and
// sets $VAR to the image's reference. KIND is
//   - shell: a linux/amd64 base (the default compute environment's) with /bin/sh (a stand-in for a
//     static shell: the stand-in checks it is there and runs the host's),
//     PATH set and the command `sh -c 'echo base command ran'`;
//   - shell-index: the same for linux/amd64 and linux/arm64, an index;
//   - arm64: the shell base for linux/arm64 only;
//   - job: a linux/amd64 image for `up --image`: batchxray on its PATH, no
//     entrypoint, and the commands the scripts run in it (userJobImage; the
//     stand-in runs the host's); mkstack's stacks run the same image;
//   - release: `make release`'s job image index, built from this binary.
func cmdPushImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: pushimage shell|shell-index|arm64|job|release REPO:TAG VAR")
	}
	kind, repoTag, envVar := args[0], args[1], args[2]
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(ts.Getenv("AWS_REGION")),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		config.WithBaseEndpoint(ts.Getenv("AWS_ENDPOINT_URL")),
	)
	ts.Check(err)
	ref, opts, err := standInRepository(ctx, cfg, repoTag)
	ts.Check(err)
	must := func(img v1.Image, err error) v1.Image {
		ts.Check(err)
		return img
	}

	switch kind {
	case "shell":
		ts.Check(remote.Write(ref, must(shellBase("amd64")), opts...))
	case "arm64":
		ts.Check(remote.Write(ref, must(shellBase("arm64")), opts...))
	case "job":
		ts.Check(remote.Write(ref, must(userJobImage()), opts...))
	case "shell-index":
		ts.Check(remote.WriteIndex(ref, index(must(shellBase("amd64")), must(shellBase("arm64"))), opts...))
	case "release":
		exe, err := ownBinary()
		ts.Check(err)
		bin, err := os.ReadFile(exe)
		ts.Check(err)
		idx, err := image.Release(map[string][]byte{"amd64": asArch(bin, "amd64"), "arm64": asArch(bin, "arm64")}, []byte("ca"))
		ts.Check(err)
		ts.Check(remote.WriteIndex(ref, idx, opts...))
	default:
		ts.Fatalf("pushimage: unknown kind %q", kind)
	}
	ts.Setenv(envVar, ref.String())
}

// standInRepository creates the ECR repository of repoTag (REPO:TAG) on
// the stand-in cfg points at, unless it exists, and returns repoTag's
// reference in the stand-in's registry with the options that push to it
// with the registry login ECR gives.
func standInRepository(ctx context.Context, cfg aws.Config, repoTag string) (name.Reference, []remote.Option, error) {
	c := ecr.NewFromConfig(cfg)
	repo, _, _ := strings.Cut(repoTag, ":")
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		var exists *ecrtypes.RepositoryAlreadyExistsException
		if !errors.As(err, &exists) {
			return nil, nil, fmt.Errorf("create repository %s: %w", repo, err)
		}
	}
	tok, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, nil, err
	}
	if len(tok.AuthorizationData) == 0 {
		return nil, nil, errors.New("get authorization token: no authorization data")
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return nil, nil, fmt.Errorf("decode the authorization token: %w", err)
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	u, err := url.Parse(aws.ToString(tok.AuthorizationData[0].ProxyEndpoint))
	if err != nil {
		return nil, nil, err
	}
	ref, err := name.ParseReference(u.Host + "/" + repoTag)
	if err != nil {
		return nil, nil, err
	}
	return ref, []remote.Option{remote.WithContext(ctx), remote.WithAuth(&authn.Basic{Username: user, Password: pass})}, nil
}

// shellBase is a small base image for linux/arch with /bin/sh.
func shellBase(arch string) (v1.Image, error) {
	return testImage(arch, v1.Config{
		Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
		Cmd: []string{"sh", "-c", "echo base command ran"},
	}, "bin/", "usr/", "usr/local/", "usr/local/bin/", "tmp/", "bin/sh")
}

// userJobImage is an image that holds batchxray, as --image wants, and
// exactly the commands the scripts' jobs run in it: sh, and what their
// shells run that is not a builtin (sleep, seq), and true. Each is a
// stand-in file the stand-in finds and runs as the host's. mkstack's
// stacks run it too (stackJobImage).
func userJobImage() (v1.Image, error) {
	return testImage("amd64", v1.Config{Env: []string{"PATH=/usr/local/bin:/bin"}},
		"usr/local/bin/batchxray", "bin/sh", "bin/sleep", "bin/seq", "bin/true")
}

// stackJobImage is userJobImage built once per test process: every mkstack
// stack pushes it.
var stackJobImage = sync.OnceValues(userJobImage)

// testImage is a one-layer linux/arch image with config's environment and
// command, holding each entry: a directory when it ends in "/", else an
// executable stand-in file (the stand-in runs the host's program of its
// name).
func testImage(arch string, config v1.Config, entries ...string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if strings.HasSuffix(e, "/") {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: e, Mode: 0o755}); err != nil {
				return nil, err
			}
			continue
		}
		body := []byte("#!/bin/sh\n# a stand-in for " + e + "\n")
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e, Mode: 0o755, Size: int64(len(body))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Config.Env, cf.Config.Cmd = config.Env, config.Cmd
	return mutate.ConfigFile(img, cf)
}

// index is an image index of amd64 and arm64.
func index(amd64, arm64 v1.Image) v1.ImageIndex {
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	for arch, img := range map[string]v1.Image{"amd64": amd64, "arm64": arm64} {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx
}

// asArch is bin with its ELF machine set to arch's: the release image
// wants a binary per architecture, and the stand-in runs this one anyway.
func asArch(bin []byte, arch string) []byte {
	out := slices.Clone(bin)
	machine := map[string]uint16{"amd64": 62, "arm64": 183}[arch]
	binary.LittleEndian.PutUint16(out[18:], machine)
	return out
}

// BenchmarkStackJobImage measures what the job image adds to each mkstack:
// "push" is one push of the built image to a new repository on the
// stand-in, as each script's stack does; "build" is the build that
// stackJobImage does once per test process instead of once a push.
func BenchmarkStackJobImage(b *testing.B) {
	b.Run("push", func(b *testing.B) {
		_, cfg := localawstest.Start(b, localaws.Options{})
		ctx := context.Background()
		if _, err := stackJobImage(); err != nil {
			b.Fatal(err)
		}
		i := 0
		for b.Loop() {
			i++
			if _, err := pushStackJobImage(ctx, cfg, fmt.Sprintf("batchxray/bench-%d", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			img, err := userJobImage()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := img.Digest(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
