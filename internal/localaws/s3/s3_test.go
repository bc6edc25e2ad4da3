package s3_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

var ctx = context.Background()

// start serves a stand-in and returns an S3 client that uses path-style
// URLs, as a client of 127.0.0.1 does anyway.
func start(t *testing.T, opts localaws.Options) (*localaws.Server, *s3.Client) {
	t.Helper()
	srv, cfg := localawstest.Start(t, opts)
	return srv, s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// errorCode is the AWS error code of err, or "" for nil.
func errorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an AWS API error", err)
	}
	return ae.ErrorCode()
}

// must returns v, failing the test on err: must(c.Call(...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func createBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}))(t)
}

func putObject(t *testing.T, c *s3.Client, bucket, key, body string) *s3.PutObjectOutput {
	t.Helper()
	return must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader([]byte(body))}))(t)
}

func operations(srv *localaws.Server) []string {
	var ops []string
	for _, c := range srv.Calls() {
		ops = append(ops, c.Operation)
	}
	return ops
}

func TestBucketSettings(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	b := aws.String("stack-bucket")
	createBucket(t, c, "stack-bucket")

	must(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}))(t)
	loc := must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b}))(t)
	if loc.LocationConstraint != "" {
		t.Errorf("us-east-1 location = %q, want empty", loc.LocationConstraint)
	}
	list := must(c.ListBuckets(ctx, &s3.ListBucketsInput{}))(t)
	if len(list.Buckets) != 1 || aws.ToString(list.Buckets[0].Name) != "stack-bucket" {
		t.Errorf("ListBuckets = %+v", list.Buckets)
	}

	// Tagging.
	tags := []types.Tag{{Key: aws.String("batchxray:stack"), Value: aws.String("demo")}, {Key: aws.String("team"), Value: aws.String("")}}
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: tags}}))(t)
	gotTags := must(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}))(t)
	if diff := cmp.Diff(tagMap(tags), tagMap(gotTags.TagSet)); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	must(c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}))(t)
	_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
	if got := errorCode(t, err); got != "NoSuchTagSet" {
		t.Errorf("GetBucketTagging after delete: %q, want NoSuchTagSet", got)
	}

	// Public access block: on by default, as AWS does for new buckets.
	pab := must(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}))(t)
	all := types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}
	if diff := cmp.Diff(all, *pab.PublicAccessBlockConfiguration, cmpOpts); diff != "" {
		t.Errorf("default public access block (-want +got):\n%s", diff)
	}
	some := types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(false), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(false)}
	must(c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &some}))(t)
	pab = must(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}))(t)
	if diff := cmp.Diff(some, *pab.PublicAccessBlockConfiguration, cmpOpts); diff != "" {
		t.Errorf("public access block (-want +got):\n%s", diff)
	}
	must(c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b}))(t)
	_, err = c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	if got := errorCode(t, err); got != "NoSuchPublicAccessBlockConfiguration" {
		t.Errorf("GetPublicAccessBlock after delete: %q, want NoSuchPublicAccessBlockConfiguration", got)
	}

	// Default encryption: SSE-S3 unless changed, and reset to it on delete.
	algorithm := func() (types.ServerSideEncryption, string) {
		t.Helper()
		out := must(c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}))(t)
		d := out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
		return d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID)
	}
	if alg, _ := algorithm(); alg != types.ServerSideEncryptionAes256 {
		t.Errorf("default encryption = %q, want AES256", alg)
	}
	must(c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
		Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
			SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("alias/stack")}, BucketKeyEnabled: aws.Bool(true)}},
	}}))(t)
	if alg, key := algorithm(); alg != types.ServerSideEncryptionAwsKms || key != "alias/stack" {
		t.Errorf("encryption = %q %q, want aws:kms alias/stack", alg, key)
	}
	must(c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: b}))(t)
	if alg, _ := algorithm(); alg != types.ServerSideEncryptionAes256 {
		t.Errorf("encryption after delete = %q, want AES256", alg)
	}

	must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}))(t)
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket after delete: %v, want NotFound", err)
	}

	want := []string{"CreateBucket", "HeadBucket", "GetBucketLocation", "ListBuckets",
		"PutBucketTagging", "GetBucketTagging", "DeleteBucketTagging", "GetBucketTagging",
		"GetPublicAccessBlock", "PutPublicAccessBlock", "GetPublicAccessBlock", "DeletePublicAccessBlock", "GetPublicAccessBlock",
		"GetBucketEncryption", "PutBucketEncryption", "GetBucketEncryption", "DeleteBucketEncryption", "GetBucketEncryption",
		"DeleteBucket", "HeadBucket"}
	if diff := cmp.Diff(want, operations(srv)); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}

var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b *bool) bool { return aws.ToBool(a) == aws.ToBool(b) }),
	cmpopts.IgnoreUnexported(types.PublicAccessBlockConfiguration{}),
}

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func TestObjects(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	b := aws.String("objects")
	createBucket(t, c, "objects")
	srv.ResetCalls()

	put := putObject(t, c, "objects", "dir/a.txt", "hello")
	if aws.ToString(put.ETag) != `"5d41402abc4b2a76b9719d911017c592"` {
		t.Errorf("ETag = %s, want the MD5 of the body", aws.ToString(put.ETag))
	}
	putObject(t, c, "objects", "dir/b.txt", "world!")
	head := must(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("dir/a.txt")}))(t)
	if aws.ToInt64(head.ContentLength) != 5 {
		t.Errorf("HeadObject length = %d, want 5", aws.ToInt64(head.ContentLength))
	}
	get := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("dir/a.txt")}))(t)
	body := must(io.ReadAll(get.Body))(t)
	if string(body) != "hello" {
		t.Errorf("GetObject = %q, want hello", body)
	}
	ranged := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("dir/b.txt"), Range: aws.String("bytes=0-4")}))(t)
	if body := must(io.ReadAll(ranged.Body))(t); string(body) != "world" {
		t.Errorf("ranged GetObject = %q, want world", body)
	}
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy.txt"), CopySource: aws.String("objects/dir/a.txt")}))(t)

	list := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("dir/")}))(t)
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if diff := cmp.Diff([]string{"dir/a.txt", "dir/b.txt"}, keys); diff != "" {
		t.Errorf("ListObjectsV2 keys (-want +got):\n%s", diff)
	}

	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("copy.txt")}))(t)
	del := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("dir/a.txt")}, {Key: aws.String("dir/b.txt")},
	}}}))(t)
	if len(del.Deleted) != 2 || len(del.Errors) != 0 {
		t.Errorf("DeleteObjects deleted %d, errors %v", len(del.Deleted), del.Errors)
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("dir/a.txt")})
	var nk *types.NoSuchKey
	if !errors.As(err, &nk) {
		t.Errorf("GetObject after delete: %v, want NoSuchKey", err)
	}
	must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}))(t)

	want := []string{"PutObject", "PutObject", "HeadObject", "GetObject", "GetObject", "CopyObject",
		"ListObjectsV2", "DeleteObject", "DeleteObjects", "GetObject", "DeleteBucket"}
	if diff := cmp.Diff(want, operations(srv)); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}

// TestPutObjectChecksums puts with each of the SDK's checksum algorithms
// over plain HTTP (the SDK computes them up front for a seekable body) and
// reads the checksum back.
func TestPutObjectChecksums(t *testing.T) {
	_, c := start(t, localaws.Options{})
	createBucket(t, c, "sums")
	for _, alg := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256} {
		t.Run(string(alg), func(t *testing.T) {
			key := aws.String("k-" + string(alg))
			must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("sums"), Key: key, Body: bytes.NewReader([]byte("123456789")), ChecksumAlgorithm: alg}))(t)
			out := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("sums"), Key: key, ChecksumMode: types.ChecksumModeEnabled}))(t)
			if b := must(io.ReadAll(out.Body))(t); string(b) != "123456789" {
				t.Errorf("body = %q", b)
			}
			if alg == types.ChecksumAlgorithmCrc64nvme && aws.ToString(out.ChecksumCRC64NVME) != "rosUhgp5mIg=" {
				t.Errorf("CRC64NVME = %q, want the published check value rosUhgp5mIg=", aws.ToString(out.ChecksumCRC64NVME))
			}
		})
	}
}

// TestVirtualHostStyle talks to the stand-in as http://localhost:port with
// virtual-host addressing: the SDK sends Host: <bucket>.localhost:port, and
// the test's dialer takes every host to the stand-in.
func TestVirtualHostStyle(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{})
	u := must(url.Parse(srv.Endpoint()))(t)
	var (
		mu    sync.Mutex
		hosts []string
	)
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			defer mu.Unlock()
			hosts = append(hosts, addr)
			return (&net.Dialer{}).DialContext(ctx, network, u.Host)
		}
	})
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://localhost:" + u.Port())
		o.HTTPClient = client
	})
	createBucket(t, c, "vhost-bucket")
	// A key under v2/ addressed virtual-host style has the registry's path
	// (/v2/...), but its SigV4 signature makes it S3's.
	putObject(t, c, "vhost-bucket", "v2/nested/key.txt", "virtual")
	get := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost-bucket"), Key: aws.String("v2/nested/key.txt")}))(t)
	if b := must(io.ReadAll(get.Body))(t); string(b) != "virtual" {
		t.Errorf("GetObject = %q", b)
	}
	must(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("vhost-bucket"), Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}))(t)
	list := must(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost-bucket")}))(t)
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "v2/nested/key.txt" {
		t.Errorf("ListObjectsV2 = %+v", list.Contents)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hosts) == 0 || !strings.HasPrefix(hosts[0], "vhost-bucket.localhost:") {
		t.Errorf("dialed %v, want vhost-bucket.localhost:port (virtual-host style)", hosts)
	}

	// The same bucket path-style through the stand-in's own address.
	path := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	got := must(path.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost-bucket"), Key: aws.String("v2/nested/key.txt")}))(t)
	if b := must(io.ReadAll(got.Body))(t); string(b) != "virtual" {
		t.Errorf("path-style GetObject = %q", b)
	}
}

// TestEmptyVersionedBucket empties a bucket with versions the way a
// teardown does: list the versions and delete markers, delete them all.
func TestEmptyVersionedBucket(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	b := aws.String("versioned")
	createBucket(t, c, "versioned")
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))(t)
	v := must(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}))(t)
	if v.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("versioning = %q", v.Status)
	}
	putObject(t, c, "versioned", "k", "one")
	putObject(t, c, "versioned", "k", "two")
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")}))(t)

	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
	if got := errorCode(t, err); got != "BucketNotEmpty" {
		t.Fatalf("DeleteBucket with versions left: %q, want BucketNotEmpty", got)
	}
	vs := must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b}))(t)
	if len(vs.Versions) != 2 || len(vs.DeleteMarkers) != 1 {
		t.Fatalf("ListObjectVersions: %d versions, %d delete markers, want 2 and 1", len(vs.Versions), len(vs.DeleteMarkers))
	}
	var ids []types.ObjectIdentifier
	for _, v := range vs.Versions {
		ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
	}
	for _, m := range vs.DeleteMarkers {
		ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
	}
	del := must(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}))(t)
	if len(del.Errors) != 0 {
		t.Fatalf("DeleteObjects errors: %+v", del.Errors)
	}
	vs = must(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b}))(t)
	if len(vs.Versions)+len(vs.DeleteMarkers) != 0 {
		t.Fatalf("versions left: %+v %+v", vs.Versions, vs.DeleteMarkers)
	}
	must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}))(t)
	if ops := operations(srv); !strings.Contains(strings.Join(ops, " "), "PutBucketVersioning GetBucketVersioning") ||
		!strings.Contains(strings.Join(ops, " "), "ListObjectVersions DeleteObjects ListObjectVersions DeleteBucket") {
		t.Errorf("operations = %v", ops)
	}
}

// TestRules is the table of S3's rules the stand-in keeps: each breaks one
// and expects AWS's error code.
func TestRules(t *testing.T) {
	tests := []struct {
		rule   string
		region string
		setup  func(t *testing.T, c *s3.Client)
		call   func(c *s3.Client) error
		want   string
	}{
		{rule: "bucket name shorter than 3", call: create("ab"), want: "InvalidBucketName"},
		{rule: "bucket name longer than 63", call: create(strings.Repeat("a", 64)), want: "InvalidBucketName"},
		{rule: "bucket name with uppercase", call: create("My-Bucket"), want: "InvalidBucketName"},
		{rule: "bucket name with underscore", call: create("my_bucket"), want: "InvalidBucketName"},
		{rule: "bucket name starting with a hyphen", call: create("-bucket"), want: "InvalidBucketName"},
		{rule: "bucket name ending with a dot", call: create("bucket."), want: "InvalidBucketName"},
		{rule: "bucket name with adjacent dots", call: create("my..bucket"), want: "InvalidBucketName"},
		{rule: "bucket name formatted as an IP address", call: create("192.168.5.4"), want: "InvalidBucketName"},
		{rule: "bucket name with a reserved prefix", call: create("xn--bucket"), want: "InvalidBucketName"},
		{rule: "bucket name with a reserved suffix", call: create("bucket-s3alias"), want: "InvalidBucketName"},
		{rule: "dotted names with one-letter labels are valid", call: create("a.b.c"), want: ""},
		{rule: "us-east-1 takes no location constraint", call: createIn("bucket", "us-east-1"), want: "InvalidLocationConstraint"},
		{rule: "other regions require their location constraint", region: "eu-west-1", call: create("bucket"), want: "IllegalLocationConstraintException"},
		{rule: "location constraint must match the endpoint's region", region: "eu-west-1", call: createIn("bucket", "eu-central-1"), want: "IllegalLocationConstraintException"},
		{rule: "location constraint of the endpoint's region", region: "eu-west-1", call: createIn("bucket", "eu-west-1"), want: ""},
		{rule: "re-creating one's own bucket outside us-east-1", region: "eu-west-1",
			setup: func(t *testing.T, c *s3.Client) { must(struct{}{}, createIn("bucket", "eu-west-1")(c))(t) },
			call:  createIn("bucket", "eu-west-1"), want: "BucketAlreadyOwnedByYou"},
		{rule: "re-creating one's own bucket in us-east-1 succeeds (legacy)",
			setup: func(t *testing.T, c *s3.Client) { createBucket(t, c, "bucket") },
			call:  create("bucket"), want: ""},
		{rule: "a non-empty bucket cannot be deleted",
			setup: func(t *testing.T, c *s3.Client) { createBucket(t, c, "bucket"); putObject(t, c, "bucket", "k", "v") },
			call: func(c *s3.Client) error {
				_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bucket")})
				return err
			}, want: "BucketNotEmpty"},
		{rule: "deleting a missing bucket", call: func(c *s3.Client) error {
			_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("missing")})
			return err
		}, want: "NoSuchBucket"},
		{rule: "putting into a missing bucket", call: func(c *s3.Client) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("missing"), Key: aws.String("k"), Body: bytes.NewReader(nil)})
			return err
		}, want: "NoSuchBucket"},
		{rule: "tagging a missing bucket", call: func(c *s3.Client) error {
			_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("missing")})
			return err
		}, want: "NoSuchBucket"},
		{rule: "a bucket without tags has no tag set", setup: bucketSetup, call: func(c *s3.Client) error {
			_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("bucket")})
			return err
		}, want: "NoSuchTagSet"},
		{rule: "aws: tag keys are reserved", setup: bucketSetup, call: putTags(types.Tag{Key: aws.String("aws:x"), Value: aws.String("v")}), want: "InvalidTag"},
		{rule: "tag keys are unique", setup: bucketSetup,
			call: putTags(types.Tag{Key: aws.String("k"), Value: aws.String("1")}, types.Tag{Key: aws.String("k"), Value: aws.String("2")}), want: "InvalidTag"},
		{rule: "tag keys are at most 128 characters", setup: bucketSetup, call: putTags(types.Tag{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}), want: "InvalidTag"},
		{rule: "a deleted public access block is gone", setup: func(t *testing.T, c *s3.Client) {
			bucketSetup(t, c)
			must(c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("bucket")}))(t)
		}, call: func(c *s3.Client) error {
			_, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("bucket")})
			return err
		}, want: "NoSuchPublicAccessBlockConfiguration"},
		{rule: "a KMS key with SSE-S3", setup: bucketSetup, call: func(c *s3.Client) error {
			_, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("bucket"), ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
				Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256, KMSMasterKeyID: aws.String("k")}}}}})
			return err
		}, want: "InvalidArgument"},
		{rule: "getting a missing key", setup: bucketSetup, call: func(c *s3.Client) error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String("nope")})
			return err
		}, want: "NoSuchKey"},
		{rule: "a body that does not match its checksum", setup: bucketSetup, call: func(c *s3.Client) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: bytes.NewReader([]byte("data")), ChecksumCRC32: aws.String("AAAAAA==")})
			return err
		}, want: "BadDigest"},
		{rule: "an operation the stand-in does not serve", setup: bucketSetup, call: func(c *s3.Client) error {
			_, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("bucket")})
			return err
		}, want: "NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, c := start(t, localaws.Options{Region: tt.region})
			if tt.setup != nil {
				tt.setup(t, c)
			}
			if got := errorCode(t, tt.call(c)); got != tt.want {
				t.Errorf("error code %q, want %q", got, tt.want)
			}
		})
	}
}

func create(name string) func(c *s3.Client) error {
	return func(c *s3.Client) error {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		return err
	}
}

func createIn(name, region string) func(c *s3.Client) error {
	return func(c *s3.Client) error {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}})
		return err
	}
}

func bucketSetup(t *testing.T, c *s3.Client) { createBucket(t, c, "bucket") }

func putTags(tags ...types.Tag) func(c *s3.Client) error {
	return func(c *s3.Client) error {
		_, err := c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("bucket"), Tagging: &types.Tagging{TagSet: tags}})
		return err
	}
}

func TestBucketInOtherRegion(t *testing.T) {
	_, c := start(t, localaws.Options{Region: "eu-west-1"})
	must(struct{}{}, createIn("regional", "eu-west-1")(c))(t)
	loc := must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("regional")}))(t)
	if loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Errorf("location = %q, want eu-west-1", loc.LocationConstraint)
	}
	head := must(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("regional")}))(t)
	if aws.ToString(head.BucketRegion) != "eu-west-1" {
		t.Errorf("HeadBucket region = %q", aws.ToString(head.BucketRegion))
	}
}

func TestThrottleIsSlowDown(t *testing.T) {
	_, c := start(t, localaws.Options{ThrottleRate: 1})
	_, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	var re *awshttp.ResponseError
	if got := errorCode(t, err); got != "SlowDown" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("throttled call: %v, want SlowDown 503", err)
	}
}

// awsChunked encodes body as an unsigned aws-chunked stream with a trailing
// CRC32, as the SDK does over TLS.
func awsChunked(body []byte, chunk int, crc string) []byte {
	var b bytes.Buffer
	for len(body) > 0 {
		n := min(chunk, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	fmt.Fprintf(&b, "0\r\nx-amz-checksum-crc32:%s\r\n\r\n", crc)
	return b.Bytes()
}

func crc32Base64(b []byte) string {
	s := crc32.ChecksumIEEE(b)
	return base64.StdEncoding.EncodeToString([]byte{byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)})
}

// TestAWSChunkedTrailer sends what the SDK sends over TLS: an aws-chunked
// body with its CRC32 in a trailer. The stand-in stores the decoded bytes,
// and refuses a trailer that does not match.
func TestAWSChunkedTrailer(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	createBucket(t, c, "chunked")
	body := bytes.Repeat([]byte("0123456789abcdef"), 1000)
	send := func(key string, encoded []byte) *http.Response {
		t.Helper()
		req := must(http.NewRequest(http.MethodPut, srv.Endpoint()+"/chunked/"+key, bytes.NewReader(encoded)))(t)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x")
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(body)))
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		resp := must(http.DefaultClient.Do(req))(t)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := send("good", awsChunked(body, 4096, crc32Base64(body))); resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT aws-chunked: %d %s", resp.StatusCode, b)
	}
	got := must(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("chunked"), Key: aws.String("good")}))(t)
	if b := must(io.ReadAll(got.Body))(t); !bytes.Equal(b, body) {
		t.Errorf("stored %d bytes, want the %d decoded bytes", len(b), len(body))
	}
	if got.ContentEncoding != nil {
		t.Errorf("Content-Encoding = %q, want none (aws-chunked is transport only)", aws.ToString(got.ContentEncoding))
	}

	resp := send("bad", awsChunked(body, 4096, crc32Base64([]byte("other"))))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "<Code>BadDigest</Code>") {
		t.Errorf("PUT with a wrong trailing checksum: %d %s, want 400 BadDigest", resp.StatusCode, b)
	}
}
