package provision

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// ImagePublisher builds the job image and pushes it to a repository, unless
// the repository already holds it. internal/image implements it.
type ImagePublisher interface {
	// Publish returns the reference of the image in repository and whether
	// it pushed anything; with dryRun it only looks. The login comes from
	// ECR's authorization token.
	Publish(ctx context.Context, repository, username, password string, dryRun bool) (ref string, pushed bool, err error)
}

// ensureRepository creates or checks the stack's ECR repository and
// returns its URI in the Result's ID.
func (p *Provisioner) ensureRepository(ctx context.Context, dry bool) (Result, error) {
	name := p.names.Repository
	out, err := p.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	switch {
	case isCode(err, "RepositoryNotFoundException"):
		if dry {
			return Result{Action: Create}, nil
		}
		created, err := p.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
			RepositoryName:             &name,
			ImageTagMutability:         ecrtypes.ImageTagMutabilityImmutable,
			ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true},
			Tags:                       ecrTags(p.stackTags()),
		})
		if err != nil {
			return Result{}, fmt.Errorf("create repository: %w", err)
		}
		r := created.Repository
		return Result{Action: Create, ARN: aws.ToString(r.RepositoryArn), ID: aws.ToString(r.RepositoryUri)}, nil
	case err != nil:
		return Result{}, fmt.Errorf("describe repository: %w", err)
	case len(out.Repositories) == 0:
		return Result{}, fmt.Errorf("describe repository: no repository in the answer")
	}
	r := out.Repositories[0]
	tags, err := p.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
	if err != nil {
		return Result{}, fmt.Errorf("list repository tags: %w", err)
	}
	if !p.owned(fromECRTags(tags.Tags)) {
		return Result{Action: NotOurs}, &NotOursError{"ECR repository", name, p.names.Stack}
	}
	return Result{Action: Unchanged, ARN: aws.ToString(r.RepositoryArn), ID: aws.ToString(r.RepositoryUri)}, nil
}

// ImageError is a job image that could not be published: the registry
// refused it or is not there (an AWS stand-in without one, say).
type ImageError struct {
	Repository string
	Err        error
}

func (e *ImageError) Error() string { return e.Err.Error() }
func (e *ImageError) Unwrap() error { return e.Err }

// ensureImage pushes the job image to the repository unless it is there.
func (p *Provisioner) ensureImage(ctx context.Context, dry bool, pub ImagePublisher, repoURI string) (Result, error) {
	r, err := p.publishImage(ctx, dry, pub, repoURI)
	if err != nil {
		return Result{}, &ImageError{Repository: repoURI, Err: err}
	}
	return r, nil
}

func (p *Provisioner) publishImage(ctx context.Context, dry bool, pub ImagePublisher, repoURI string) (Result, error) {
	if repoURI == "" {
		// Dry run before the repository exists: the image will be pushed.
		return Result{Action: Create}, nil
	}
	tok, err := p.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
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
	ref, pushed, err := pub.Publish(ctx, repoURI, user, pass, dry)
	if err != nil {
		return Result{}, err
	}
	res := Result{Action: Unchanged, ID: ref}
	if pushed {
		res.Action = Create
	}
	return res, nil
}

func ecrTags(m map[string]string) []ecrtypes.Tag {
	var tags []ecrtypes.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, ecrtypes.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

func fromECRTags(tags []ecrtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
