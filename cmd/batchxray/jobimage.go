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
// image (--image, checked for batchxray), the user's base with a batchxray
// on top (--base-image: this binary, --job-binary, or the published
// image's), this binary (or --job-binary) on the empty base, or, when this
// binary cannot go into the image or --job-image-source says so, the
// published image of its version copied. A bad reference or architecture
// is a usage error; an unreadable base or source an error.
func chooseJobImage(ctx context.Context, opts *upOptions, cfg aws.Config) (jobImage, error) {
	arch := goArch(opts.spec.Arch)
	creds := &image.Credentials{ECR: ecr.NewFromConfig(cfg), Keychain: opts.keychain}
	fits := opts.jobBinary != "" || hostPlatform == "linux/"+arch
	switch {
	case opts.spec.Image != "":
		c, err := image.CheckImage(ctx, opts.spec.Image, arch, creds, opts.imageTransport)
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
		bin, note, err := baseBinary(ctx, opts, arch, fits, creds)
		if err != nil {
			return jobImage{}, err
		}
		pub := &image.BasePublisher{Base: opts.baseImage, Binary: bin, Arch: arch, Credentials: creds, Transport: opts.imageTransport}
		if err := pub.Check(ctx); err != nil {
			return jobImage{}, imageInputError(err)
		}
		return jobImage{publisher: pub, imageCommand: true, note: note}, nil
	case !fits || opts.jobImageSource != "":
		src := jobImageSource(opts)
		note := fmt.Sprintf("the job image is %s's linux/%s image, copied into the stack's repository", src, arch)
		if !fits {
			note = fmt.Sprintf("this batchxray is %s, so the job image is %s's linux/%s image, copied into the stack's repository (--job-binary uses your own build)", hostPlatform, src, arch)
		}
		return jobImage{
			publisher: &image.SourcePublisher{Source: src, Arch: arch, Credentials: creds, Transport: opts.imageTransport},
			note:      note,
		}, nil
	}
	pub, err := jobPublisher(opts.spec.Arch, opts.jobBinary)
	if err != nil {
		return jobImage{}, err
	}
	return jobImage{publisher: pub}, nil
}

// baseBinary is the batchxray binary up --base-image adds, and a line to
// print when it is not this one: --job-binary, else this binary when it
// fits, else (or with --job-image-source) the published job image's linux
// binary for arch.
func baseBinary(ctx context.Context, opts *upOptions, arch string, fits bool, creds *image.Credentials) ([]byte, string, error) {
	if fits && opts.jobImageSource == "" {
		own, err := jobPublisher(opts.spec.Arch, opts.jobBinary)
		if err != nil {
			return nil, "", err
		}
		return own.Binary, "", nil
	}
	src := jobImageSource(opts)
	bin, err := image.SourceBinary(ctx, src, arch, creds, opts.imageTransport)
	if err != nil {
		return nil, "", imageInputError(err)
	}
	note := fmt.Sprintf("the batchxray added to %s is %s's linux/%s binary", opts.baseImage, src, arch)
	if !fits {
		note = fmt.Sprintf("this batchxray is %s, so the batchxray added to %s is %s's linux/%s binary (--job-binary uses your own build)", hostPlatform, opts.baseImage, src, arch)
	}
	return bin, note, nil
}

// jobImageSource is --job-image-source, by default the published image of
// this version.
func jobImageSource(opts *upOptions) string {
	if opts.jobImageSource != "" {
		return opts.jobImageSource
	}
	return image.PublicImage(version)
}

// checkImageFlags refuses, before any call, the image flags that make no
// sense together, and references that do not parse. --image is an image
// that holds batchxray already, so nothing may say where batchxray comes
// from; --job-binary and --job-image-source are two such sources.
func checkImageFlags(o *upOptions) error {
	switch {
	case o.baseImage != "" && o.spec.Image != "":
		return usageErrorf("--image and --base-image exclude each other: --base-image adds batchxray to your image, --image uses one that has it")
	case o.spec.Image != "" && o.jobBinary != "":
		return usageErrorf("--image and --job-binary exclude each other: --image uses your image as it is")
	case o.spec.Image != "" && o.jobImageSource != "":
		return usageErrorf("--image and --job-image-source exclude each other: --image uses your image, which holds batchxray, as it is")
	case o.jobBinary != "" && o.jobImageSource != "":
		return usageErrorf("--job-binary and --job-image-source exclude each other: each gives the batchxray the job image holds")
	}
	for _, ref := range []string{o.baseImage, o.spec.Image, o.jobImageSource} {
		if _, err := image.ParseReference(ref); ref != "" && err != nil {
			return &usageError{err}
		}
	}
	return nil
}

// imageInputError makes the user's bad reference or architecture a usage
// error; an image that cannot be read stays an error (exit 1).
func imageInputError(err error) error {
	if errors.Is(err, image.ErrBadReference) || errors.Is(err, image.ErrWrongArchitecture) {
		return &usageError{err}
	}
	return err
}
