package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// repository is the stack's ECR repository, which holds the job image. Its
// URI is the Result's ID.
type repository struct {
	done
	p *Provisioner
}

func (r *repository) kind() string { return "ECR repository" }
func (r *repository) name() string { return r.p.names.Repository }

// describe returns the repository and whether it is the stack's, or nil.
func (r *repository) describe(ctx context.Context) (*ecrtypes.Repository, bool, error) {
	p, name := r.p, r.p.names.Repository
	out, err := p.ecr.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	switch {
	case isCode(err, "RepositoryNotFoundException"):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("describe repository: %w", err)
	case len(out.Repositories) == 0:
		return nil, false, fmt.Errorf("describe repository: no repository in the answer")
	}
	repo := out.Repositories[0]
	tags, err := p.ecr.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: repo.RepositoryArn})
	if err != nil {
		return nil, false, fmt.Errorf("list repository tags: %w", err)
	}
	return &repo, p.owned(fromECRTags(tags.Tags)), nil
}

func (r *repository) plan(ctx context.Context) (Result, error) {
	repo, ours, err := r.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case repo == nil:
		return Result{Action: Create}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"ECR repository", r.p.names.Repository, r.p.names.Stack}
	}
	return Result{Action: Unchanged, ARN: aws.ToString(repo.RepositoryArn), ID: aws.ToString(repo.RepositoryUri)}, nil
}

func (r *repository) apply(ctx context.Context) (Result, error) {
	p, name := r.p, r.p.names.Repository
	created, err := p.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             &name,
		ImageTagMutability:         ecrtypes.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true},
		Tags:                       ecrTags(p.stackTags()),
	})
	if err != nil {
		return Result{}, fmt.Errorf("create repository: %w", err)
	}
	repo := created.Repository
	return Result{Action: Create, ARN: aws.ToString(repo.RepositoryArn), ID: aws.ToString(repo.RepositoryUri)}, nil
}

func (r *repository) find(ctx context.Context) (Result, error) {
	repo, ours, err := r.describe(ctx)
	switch {
	case err != nil:
		return Result{}, err
	case repo == nil:
		return Result{Action: Absent}, nil
	case !ours:
		return Result{Action: NotOurs}, &NotOursError{"ECR repository", r.p.names.Repository, r.p.names.Stack}
	}
	return Result{Action: Delete, ARN: aws.ToString(repo.RepositoryArn)}, nil
}

// delete removes the repository with the images in it.
func (r *repository) delete(ctx context.Context) (Result, error) {
	name := r.p.names.Repository
	if _, err := r.p.ecr.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: &name, Force: true}); err != nil && !isCode(err, "RepositoryNotFoundException") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return r.out, nil
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
