package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (p *Provisioner) bucketARN(partition string) string {
	return "arn:" + partition + ":s3:::" + p.names.Bucket
}

// ensureBucket creates or converges the stack's bucket: tagged, public
// access blocked, encrypted with S3-managed keys.
func (p *Provisioner) ensureBucket(ctx context.Context, dry bool, partition string) (Result, error) {
	b := p.names.Bucket
	res := Result{ARN: p.bucketARN(partition)}
	_, err := p.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b})
	switch {
	case isCode(err, "NotFound", "NoSuchBucket"):
		res.Action = Create
		if dry {
			return res, nil
		}
		in := &s3.CreateBucketInput{Bucket: &b}
		// us-east-1 is the one region that takes no location constraint.
		if p.region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(p.region)}
		}
		if _, err := p.s3.CreateBucket(ctx, in); err != nil {
			return Result{}, fmt.Errorf("create bucket: %w", err)
		}
		if _, err := p.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &b, Tagging: &s3types.Tagging{TagSet: s3Tags(p.stackTags())}}); err != nil {
			return Result{}, fmt.Errorf("tag bucket: %w", err)
		}
		return res, p.secureBucket(ctx, true, true)
	case isCode(err, "Forbidden", "AccessDenied"):
		return Result{}, fmt.Errorf("the bucket name is taken by another account, or you may not read it: %w", err)
	case err != nil:
		return Result{}, fmt.Errorf("head bucket: %w", err)
	}
	tags, err := p.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &b})
	if err != nil && !isCode(err, "NoSuchTagSet") {
		return Result{}, fmt.Errorf("get bucket tags: %w", err)
	}
	if err != nil || !p.owned(fromS3Tags(tags.TagSet)) {
		return Result{Action: NotOurs}, &NotOursError{"S3 bucket", b, p.names.Stack}
	}
	res.Action = Unchanged
	pab, err := p.s3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: &b})
	if err != nil && !isCode(err, "NoSuchPublicAccessBlockConfiguration") {
		return Result{}, fmt.Errorf("get public access block: %w", err)
	}
	needPAB := err != nil || !allBlocked(pab.PublicAccessBlockConfiguration)
	_, err = p.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &b})
	if err != nil && !isCode(err, "ServerSideEncryptionConfigurationNotFoundError") {
		return Result{}, fmt.Errorf("get bucket encryption: %w", err)
	}
	needEnc := err != nil
	if needPAB || needEnc {
		res.Action, res.Detail = Update, "public access block and encryption"
		if !dry {
			return res, p.secureBucket(ctx, needPAB, needEnc)
		}
	}
	return res, nil
}

func (p *Provisioner) secureBucket(ctx context.Context, pab, enc bool) error {
	b := p.names.Bucket
	if pab {
		t := aws.Bool(true)
		if _, err := p.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: t, BlockPublicPolicy: t, IgnorePublicAcls: t, RestrictPublicBuckets: t,
		}}); err != nil {
			return fmt.Errorf("block public access: %w", err)
		}
	}
	if enc {
		if _, err := p.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
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
