package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/batchxray/batchxray/internal/waiter"
)

// bucket is the stack's S3 bucket, where jobs keep their output: tagged,
// public access blocked, encrypted with S3-managed keys.
type bucket struct {
	done
	p         *Provisioner
	partition string

	// What plan found.
	exists, needPAB, needEnc bool
}

func (b *bucket) kind() string { return "S3 bucket" }
func (b *bucket) name() string { return b.p.names.Bucket }

func (b *bucket) plan(ctx context.Context) (Result, error) {
	p, name := b.p, b.p.names.Bucket
	res := Result{ARN: "arn:" + b.partition + ":s3:::" + name}
	_, err := p.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
	switch {
	case isCode(err, "NotFound", "NoSuchBucket"):
		b.exists, b.needPAB, b.needEnc = false, true, true
		res.Action = Create
		return res, nil
	case isCode(err, "Forbidden", "AccessDenied"):
		return Result{}, fmt.Errorf("the bucket name is taken by another account, or you may not read it: %w", err)
	case err != nil:
		return Result{}, fmt.Errorf("head bucket: %w", err)
	}
	b.exists = true
	tags, err := b.tags(ctx)
	if err != nil && !isCode(err, "NoSuchTagSet") {
		return Result{}, fmt.Errorf("get bucket tags: %w", err)
	}
	if err != nil || !p.owned(fromS3Tags(tags.TagSet)) {
		return Result{Action: NotOurs}, &NotOursError{"S3 bucket", name, p.names.Stack}
	}
	res.Action = Unchanged
	pab, err := p.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &name})
	if err != nil && !isCode(err, "NoSuchPublicAccessBlockConfiguration") {
		return Result{}, fmt.Errorf("get public access block: %w", err)
	}
	b.needPAB = err != nil || !allBlocked(pab.PublicAccessBlockConfiguration)
	_, err = p.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &name})
	if err != nil && !isCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return Result{}, fmt.Errorf("get bucket encryption: %w", err)
	}
	b.needEnc = err != nil
	if b.needPAB || b.needEnc {
		res.Action, res.Detail = Update, "public access block and encryption"
	}
	return res, nil
}

// tags reads the bucket's tags. S3 creates a bucket and tags it in two
// calls, so a bucket with no tags at all may be another up's of this
// stack between the two: it is read again, a few times, before it is
// judged someone else's.
func (b *bucket) tags(ctx context.Context) (*s3.GetBucketTaggingOutput, error) {
	p, name := b.p, b.p.names.Bucket
	var out *s3.GetBucketTaggingOutput
	var last error
	o := p.waitOptions()
	o.MaxWait = 4 * o.MinDelay
	err := waiter.Wait(ctx, "read the tags of bucket "+name, o, func(ctx context.Context) (bool, error) {
		out, last = p.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &name})
		if isCode(last, "NoSuchTagSet") {
			return false, nil
		}
		return true, last
	})
	var te *waiter.TimeoutError
	if errors.As(err, &te) {
		return nil, last
	}
	return out, err
}

func (b *bucket) apply(ctx context.Context) (Result, error) {
	p, name := b.p, b.p.names.Bucket
	if !b.exists {
		in := &s3.CreateBucketInput{Bucket: &name}
		// us-east-1 is the one region that takes no location constraint.
		if p.region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.region)}
		}
		if _, err := p.s3.CreateBucket(ctx, in); err != nil {
			return Result{}, fmt.Errorf("create bucket: %w", err)
		}
		if _, err := p.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &name, Tagging: &s3types.Tagging{TagSet: s3Tags(p.stackTags())}}); err != nil {
			return Result{}, fmt.Errorf("tag bucket: %w", err)
		}
	}
	return b.out, b.secure(ctx)
}

func (b *bucket) find(ctx context.Context) (Result, error) {
	p, name := b.p, b.p.names.Bucket
	tags, err := p.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &name})
	switch {
	case isCode(err, "NoSuchBucket", "NotFound"):
		return Result{Action: Absent}, nil
	case isCode(err, "NoSuchTagSet"):
		return Result{Action: NotOurs}, &NotOursError{"S3 bucket", name, p.names.Stack}
	case err != nil:
		return Result{}, fmt.Errorf("get tags: %w", err)
	}
	if !p.owned(fromS3Tags(tags.TagSet)) {
		return Result{Action: NotOurs}, &NotOursError{"S3 bucket", name, p.names.Stack}
	}
	return Result{Action: Delete}, nil
}

// delete empties the bucket first, as S3 requires.
func (b *bucket) delete(ctx context.Context) (Result, error) {
	name := b.p.names.Bucket
	if err := b.empty(ctx); err != nil {
		return Result{}, err
	}
	if _, err := b.p.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name}); err != nil && !isCode(err, "NoSuchBucket") {
		return Result{}, fmt.Errorf("delete: %w", err)
	}
	return b.out, nil
}

func (b *bucket) secure(ctx context.Context) error {
	p, name := b.p, b.p.names.Bucket
	if b.needPAB {
		t := aws.Bool(true)
		if _, err := p.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &name, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: t, BlockPublicPolicy: t, IgnorePublicAcls: t, RestrictPublicBuckets: t,
		}}); err != nil {
			return fmt.Errorf("block public access: %w", err)
		}
	}
	if b.needEnc {
		if _, err := p.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &name, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}},
		}}); err != nil {
			return fmt.Errorf("encrypt bucket: %w", err)
		}
	}
	return nil
}

func allBlocked(c *s3types.PublicAccessBlockConfiguration) bool {
	return c != nil && aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.IgnorePublicAcls) && aws.ToBool(c.RestrictPublicBuckets)
}

func s3Tags(m map[string]string) []s3types.Tag {
	var tags []s3types.Tag
	for _, k := range sortedKeys(m) {
		tags = append(tags, s3types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return tags
}

func fromS3Tags(tags []s3types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// empty deletes every object version, or every object where the
// endpoint does not list versions.
func (b *bucket) empty(ctx context.Context) error {
	p, name := b.p, b.p.names.Bucket
	del := func(ids []s3types.ObjectIdentifier) error {
		if len(ids) == 0 {
			return nil
		}
		out, err := p.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &name, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("delete objects: %w", err)
		}
		if len(out.Errors) > 0 {
			return fmt.Errorf("delete object %s: %s", aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
		}
		return nil
	}
	versions := s3.NewListObjectVersionsPaginator(p.s3, &s3.ListObjectVersionsInput{Bucket: &name})
	for versions.HasMorePages() {
		page, err := versions.NextPage(ctx)
		if isCode(err, "NotImplemented") {
			break
		}
		if err != nil {
			return fmt.Errorf("list object versions: %w", err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range page.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if err := del(ids); err != nil {
			return err
		}
	}
	objects := s3.NewListObjectsV2Paginator(p.s3, &s3.ListObjectsV2Input{Bucket: &name})
	for objects.HasMorePages() {
		page, err := objects.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if err := del(ids); err != nil {
			return err
		}
	}
	return nil
}
