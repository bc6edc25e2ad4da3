package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/provision"
)

// hostPlatform is this binary's GOOS/GOARCH, which decides whether it can
// go into the job image. The end-to-end tests set it to run up as a darwin
// build would.
var hostPlatform = runtime.GOOS + "/" + runtime.GOARCH

// jobImage is how up gets the stack's job image: the publisher (nil for
// --image, used as it is), whether the image's entrypoint runs its own
// command under `batchxray job --` (--base-image), and a line to print.
type jobImage struct {
	publisher    provision.ImagePublisher
	imageCommand bool
	note         string
}

// chooseJobImage checks the image flags against their registries before
// anything is created, and picks the job image's publisher: the user's
// image (--image, checked for batchxray), the user's base with this binary
// on top (--base-image), this binary (or --job-binary) on the empty base,
// or, when this binary cannot go into the image, the published image of
// its version (--job-image-source). A bad reference or architecture is a
// usage error; an unreadable base an error.
func chooseJobImage(ctx context.Context, opts *upOptions, cfg aws.Config) (jobImage, error) {
	arch := goArch(opts.arch)
	creds := &image.Credentials{ECR: ecr.NewFromConfig(cfg), Keychain: opts.keychain}
	fits := opts.jobBinary != "" || hostPlatform == "linux/"+arch
	switch {
	case opts.image != "":
		c, err := image.CheckImage(ctx, opts.image, arch, creds, opts.imageTransport)
		if err != nil {
			return jobImage{}, imageInputError(err)
		}
		if c.Checked && !c.OK() {
			return jobImage{}, &usageError{errors.New(c.String())}
		}
		if !c.Checked {
			return jobImage{note: "warning: " + c.String() + "; the jobs fail unless batchxray is on its PATH"}, nil
		}
		return jobImage{}, nil
	case opts.baseImage != "":
		if !fits {
			return jobImage{}, &usageError{fmt.Errorf("--base-image needs a linux/%s batchxray binary to add and this one is %s: build one with `GOOS=linux GOARCH=%s go build -o batchxray-linux-%s ./cmd/batchxray` and pass --job-binary", arch, hostPlatform, arch, arch)}
		}
		own, err := jobPublisher(opts.arch, opts.jobBinary)
		if err != nil {
			return jobImage{}, err
		}
		pub := &image.BasePublisher{Base: opts.baseImage, Binary: own.Binary, Arch: arch, Credentials: creds, Transport: opts.imageTransport}
		if err := pub.Check(ctx); err != nil {
			return jobImage{}, imageInputError(err)
		}
		return jobImage{publisher: pub, imageCommand: true}, nil
	case !fits:
		src := opts.jobImageSource
		if src == "" {
			src = image.PublicImage(version)
		}
		return jobImage{
			publisher: &image.SourcePublisher{Source: src, Arch: arch, Credentials: creds, Transport: opts.imageTransport},
			note:      fmt.Sprintf("this batchxray is %s, so the job image is %s's linux/%s image, copied into the stack's repository (--job-binary uses your own build)", hostPlatform, src, arch),
		}, nil
	}
	pub, err := jobPublisher(opts.arch, opts.jobBinary)
	if err != nil {
		return jobImage{}, err
	}
	return jobImage{publisher: pub}, nil
}

// imageInputError makes the user's bad reference or architecture a usage
// error; an image that cannot be read stays an error (exit 1).
func imageInputError(err error) error {
	if errors.Is(err, image.ErrBadReference) || errors.Is(err, image.ErrWrongArchitecture) {
		return &usageError{err}
	}
	return err
}
