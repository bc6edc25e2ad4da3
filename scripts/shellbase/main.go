// Command shellbase pushes a base image whose only file is a static shell
// at /bin/sh (gosh, from mvdan.cc/sh, built by scripts/shell-base-image.sh)
// to an ECR repository, so that `batchxray up --base-image` gives the demo's
// `sh -c` jobs a shell, on AWS as on `batchxray local`. It creates the
// repository when it is missing and logs in with ECR's authorization token
// from the standard AWS configuration (AWS_ENDPOINT_URL included), and
// prints the image's reference.
//
//	go run ./scripts/shellbase -shell sh-linux-amd64 -arch amd64 -repository batchxray-base/shell
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	shell := flag.String("shell", "", "a static linux shell binary, installed as /bin/sh")
	arch := flag.String("arch", "amd64", "the shell's architecture: amd64 or arm64")
	repository := flag.String("repository", "batchxray-base/shell", "the ECR repository to push to")
	tag := flag.String("tag", "1", "the image's tag")
	flag.Parse()
	ref, err := run(context.Background(), *shell, *arch, *repository, *tag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shellbase:", err)
		os.Exit(1)
	}
	fmt.Println(ref)
}

func run(ctx context.Context, shell, arch, repository, tag string) (string, error) {
	if shell == "" {
		return "", errors.New("-shell is required")
	}
	sh, err := os.ReadFile(shell)
	if err != nil {
		return "", err
	}
	img, err := shellImage(sh, arch)
	if err != nil {
		return "", err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", err
	}
	c := ecr.NewFromConfig(cfg)
	_, err = c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repository)})
	var exists *ecrtypes.RepositoryAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return "", fmt.Errorf("create repository %s: %w", repository, err)
	}
	tok, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return "", fmt.Errorf("get registry login: %w", err)
	}
	if len(tok.AuthorizationData) == 0 {
		return "", errors.New("get registry login: no authorization data")
	}
	d := tok.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil {
		return "", fmt.Errorf("decode registry login: %w", err)
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	u, err := url.Parse(aws.ToString(d.ProxyEndpoint))
	if err != nil {
		return "", fmt.Errorf("registry endpoint: %w", err)
	}
	ref, err := name.ParseReference(u.Host + "/" + repository + ":" + tag)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	return ref.String(), nil
}

// shellImage is an image for linux/arch holding sh at /bin/sh, with a PATH
// and /tmp.
func shellImage(sh []byte, arch string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin/", "tmp/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/sh", Mode: 0o755, Size: int64(len(sh))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(sh); err != nil {
		return nil, err
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
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	cf.Config.Cmd = []string{"/bin/sh", "-c", "echo hello from the base image"}
	return mutate.ConfigFile(img, cf)
}
