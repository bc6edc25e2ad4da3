package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/batchxray/batchxray/internal/image"
	"github.com/batchxray/batchxray/internal/partition"
	"github.com/batchxray/batchxray/internal/provision"
)

// stackContext is what every command that works on a stack starts from.
type stackContext struct {
	cfg       aws.Config
	names     provision.Names
	account   string
	partition string
}

// loadStack validates the stack name before anything else (a bad one is a
// usage error), loads the AWS configuration, checks its region, and asks STS for the account
// that goes into the bucket name.
func loadStack(ctx context.Context, f *factory) (*stackContext, error) {
	if err := provision.ValidateStack(f.Globals.Stack); err != nil {
		return nil, &usageError{fmt.Errorf("%w (--stack or BATCHXRAY_STACK)", err)}
	}
	cfg, err := f.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	if err := provision.ValidateRegion(cfg.Region); err != nil {
		return nil, &usageError{fmt.Errorf("%w (--region or AWS_REGION)", err)}
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("find the AWS account: %w", explainAWSError(err))
	}
	names, err := provision.NamesFor(f.Globals.Stack, aws.ToString(id.Account), cfg.Region)
	if err != nil {
		return nil, &usageError{err}
	}
	return &stackContext{cfg: cfg, names: names, account: aws.ToString(id.Account), partition: partition.Of(cfg.Region)}, nil
}

// unreachableError is an endpoint that refused or did not answer.
type unreachableError struct {
	endpoint string
	err      error
}

func (e *unreachableError) Error() string {
	hint := ""
	if strings.Contains(e.endpoint, "127.0.0.1") || strings.Contains(e.endpoint, "localhost") {
		hint = " (is `batchxray local` running? start it, or unset AWS_ENDPOINT_URL)"
	}
	return fmt.Sprintf("cannot reach AWS at %s%s", e.endpoint, hint)
}

func (e *unreachableError) Unwrap() error { return e.err }

// explainAWSError turns a network failure into one line that says where
// batchxray tried to go; other errors pass through.
func explainAWSError(err error) error {
	var op *net.OpError
	var ie *provision.ImageError
	if errors.As(err, &op) && errors.As(err, &ie) {
		// The registry is not the AWS endpoint: name the host that failed.
		host, _, _ := strings.Cut(ie.Repository, "/")
		return fmt.Errorf("cannot reach the container registry %s: %w", host, err)
	}
	if errors.As(err, &op) {
		endpoint := os.Getenv("AWS_ENDPOINT_URL")
		if endpoint == "" && op.Addr != nil {
			endpoint = op.Addr.String()
		}
		return &unreachableError{endpoint: endpoint, err: err}
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) && provision.NotImplemented(err) {
		endpoint := os.Getenv("AWS_ENDPOINT_URL")
		if endpoint == "" {
			endpoint = "the endpoint"
		}
		return fmt.Errorf("%s does not implement %s %s, which batchxray needs (batchxray local implements every call batchxray makes): %w", endpoint, oe.ServiceID, oe.OperationName, err)
	}
	return err
}

// goArch is Go's name for an architecture.
func goArch(arch string) string {
	if arch == "arm64" {
		return "arm64"
	}
	return "amd64"
}

// ownBinary returns this binary's path, what the job image holds when no
// --job-binary is given. The end-to-end tests point it at a small
// executable (see main_test.go): the image is built and pushed the same way.
var ownBinary = os.Executable

// jobPublisher builds the publisher of batchxray's own job image: this
// binary when it runs on linux for the compute environment's architecture,
// else jobBinary (--job-binary). up builds it; it is here, beside the
// stack it goes into, to keep up.go to flags, wiring and printing.
func jobPublisher(ceArch, jobBinary string) (*image.Publisher, error) {
	arch := goArch(ceArch)
	path := jobBinary
	if path == "" {
		if runtime.GOOS != "linux" || runtime.GOARCH != arch {
			return nil, fmt.Errorf("the job image needs a linux/%s batchxray binary and this one is %s/%s: build one with `GOOS=linux GOARCH=%s go build -o batchxray-linux-%s ./cmd/batchxray` and pass --job-binary, or pass --image with your own image", arch, runtime.GOOS, runtime.GOARCH, arch, arch)
		}
		exe, err := ownBinary()
		if err != nil {
			return nil, fmt.Errorf("find this binary: %w", err)
		}
		path = exe
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the job binary: %w", err)
	}
	if err := image.CheckBinary(bin, arch); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ca, err := image.FindCABundle()
	if err != nil {
		return nil, err
	}
	return &image.Publisher{Binary: bin, Arch: arch, CABundle: ca}, nil
}
