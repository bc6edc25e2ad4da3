package provision

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// ImagePublisher builds the job image and pushes it to a repository, unless
// the repository already holds it. internal/image implements it.
type ImagePublisher interface {
	// Publish returns the reference of the image in repository and whether
	// it pushed anything; with dryRun it only looks. The login comes from
	// ECR's authorization token.
	Publish(ctx context.Context, repository, username, password string, dryRun bool) (ref string, pushed bool, err error)
}

// ImageError is a job image that could not be published: the registry
// refused it or is not there (an AWS stand-in without one, say).
type ImageError struct {
	Repository string
	Err        error
}

func (e *ImageError) Error() string { return e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }

// jobImage is batchxray's job image in the stack's repository; its
// reference is the Result's ID. It goes with the repository.
type jobImage struct {
	done
	p         *Provisioner
	repo      *repository
	publisher ImagePublisher

	user, pass string // the registry login plan got
}

func (i *jobImage) kind() string { return "job image" }
func (i *jobImage) name() string { return i.p.names.Repository }

func (i *jobImage) plan(ctx context.Context) (Result, error) {
	uri := i.repo.out.ID
	if uri == "" {
		// Dry run before the repository exists: the image will be pushed.
		return Result{Action: Create}, nil
	}
	r, err := i.publish(ctx, uri, true)
	if err != nil {
		return Result{}, &ImageError{Repository: uri, Err: err}
	}
	return r, nil
}

func (i *jobImage) apply(ctx context.Context) (Result, error) {
	uri := i.repo.out.ID
	r, err := i.publish(ctx, uri, false)
	if err != nil {
		return Result{}, &ImageError{Repository: uri, Err: err}
	}
	return r, nil
}

// publish logs in once and publishes, or with dryRun only looks.
func (i *jobImage) publish(ctx context.Context, uri string, dryRun bool) (Result, error) {
	if i.user == "" {
		tok, err := i.p.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			return Result{}, fmt.Errorf("get registry login: %w", err)
		}
		if len(tok.AuthorizationData) == 0 {
			return Result{}, fmt.Errorf("get registry login: no authorization data")
		}
		raw, err := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
		if err != nil {
			return Result{}, fmt.Errorf("decode registry login: %w", err)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Result{}, fmt.Errorf("decode registry login: not user:password")
		}
		i.user, i.pass = user, pass
	}
	ref, pushed, err := i.publisher.Publish(ctx, uri, i.user, i.pass, dryRun)
	if err != nil {
		return Result{}, err
	}
	res := Result{Action: Unchanged, ID: ref}
	if pushed {
		res.Action = Create
	}
	return res, nil
}

// find and delete have nothing to do: the image goes with its repository.
func (i *jobImage) find(context.Context) (Result, error)   { return Result{Action: Absent}, nil }
func (i *jobImage) delete(context.Context) (Result, error) { return i.out, nil }
