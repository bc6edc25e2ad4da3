package ecr_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

var ctx = context.Background()

func start(t *testing.T, opts localaws.Options) (*localaws.Server, *ecr.Client) {
	t.Helper()
	srv, cfg := localawstest.Start(t, opts)
	return srv, ecr.NewFromConfig(cfg)
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

func operations(srv *localaws.Server) []string {
	var ops []string
	for _, c := range srv.Calls() {
		ops = append(ops, c.Operation)
	}
	return ops
}

func createRepo(t *testing.T, c *ecr.Client, name string) *types.Repository {
	t.Helper()
	return must(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}))(t).Repository
}

var ignoreUnexported = cmpopts.IgnoreUnexported(types.Repository{}, types.ImageScanningConfiguration{},
	types.EncryptionConfiguration{}, types.Tag{}, types.ImageIdentifier{}, types.ImageFailure{})

func TestRepositories(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))
	srv, c := start(t, localaws.Options{Clock: clock})
	host := must(url.Parse(srv.Endpoint()))(t).Host

	created := must(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:             aws.String("batchxray/job"),
		Tags:                       []types.Tag{{Key: aws.String("batchxray:stack"), Value: aws.String("demo")}},
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:000000000000:key/k")},
	}))(t).Repository
	want := types.Repository{
		RepositoryArn:              aws.String("arn:aws:ecr:us-east-1:000000000000:repository/batchxray/job"),
		RegistryId:                 aws.String("000000000000"),
		RepositoryName:             aws.String("batchxray/job"),
		RepositoryUri:              aws.String(host + "/batchxray/job"),
		CreatedAt:                  aws.Time(clock.Now()),
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:000000000000:key/k")},
	}
	if diff := cmp.Diff(want, *created, ignoreUnexported); diff != "" {
		t.Errorf("CreateRepository (-want +got):\n%s", diff)
	}
	plain := createRepo(t, c, "other")
	if plain.ImageTagMutability != types.ImageTagMutabilityMutable || plain.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 || plain.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("defaults: %+v", plain)
	}

	byName := must(c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"batchxray/job"}}))(t)
	if diff := cmp.Diff([]types.Repository{want}, byName.Repositories, ignoreUnexported); diff != "" {
		t.Errorf("DescribeRepositories by name (-want +got):\n%s", diff)
	}
	page := must(c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1)}))(t)
	next := must(c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1), NextToken: page.NextToken}))(t)
	if len(page.Repositories) != 1 || len(next.Repositories) != 1 || next.NextToken != nil ||
		aws.ToString(page.Repositories[0].RepositoryName) != "batchxray/job" || aws.ToString(next.Repositories[0].RepositoryName) != "other" {
		t.Errorf("pages: %v then %v (next %v)", page.Repositories, next.Repositories, next.NextToken)
	}

	arn := created.RepositoryArn
	must(c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}}))(t)
	must(c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"batchxray:stack"}}))(t)
	tags := must(c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: arn}))(t)
	if diff := cmp.Diff([]types.Tag{{Key: aws.String("team"), Value: aws.String("x")}}, tags.Tags, ignoreUnexported); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	must(c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("batchxray/job"), ImageTagMutability: types.ImageTagMutabilityMutable}))(t)
	must(c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{RepositoryName: aws.String("batchxray/job"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: false}}))(t)
	got := must(c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"batchxray/job"}}))(t).Repositories[0]
	if got.ImageTagMutability != types.ImageTagMutabilityMutable || got.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("after Put*: mutability %s scanOnPush %v", got.ImageTagMutability, got.ImageScanningConfiguration.ScanOnPush)
	}

	deleted := must(c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("batchxray/job")}))(t)
	if aws.ToString(deleted.Repository.RepositoryName) != "batchxray/job" {
		t.Errorf("DeleteRepository returned %+v", deleted.Repository)
	}
	_, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"batchxray/job"}})
	var nf *types.RepositoryNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("DescribeRepositories after delete: %v, want RepositoryNotFoundException", err)
	}

	wantOps := []string{"CreateRepository", "CreateRepository", "DescribeRepositories", "DescribeRepositories", "DescribeRepositories",
		"TagResource", "UntagResource", "ListTagsForResource", "PutImageTagMutability", "PutImageScanningConfiguration",
		"DescribeRepositories", "DeleteRepository", "DescribeRepositories"}
	if diff := cmp.Diff(wantOps, operations(srv)); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}

// login gets a token as a registry client does after GetAuthorizationToken.
func login(t *testing.T, srv *localaws.Server, c *ecr.Client) *authn.Basic {
	t.Helper()
	out := must(c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}))(t)
	if len(out.AuthorizationData) != 1 {
		t.Fatalf("authorization data: %+v", out.AuthorizationData)
	}
	d := out.AuthorizationData[0]
	if aws.ToString(d.ProxyEndpoint) != srv.Endpoint() {
		t.Errorf("proxyEndpoint = %q, want the stand-in's %q", aws.ToString(d.ProxyEndpoint), srv.Endpoint())
	}
	decoded := must(base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken)))(t)
	user, password, ok := strings.Cut(string(decoded), ":")
	if !ok || user != "AWS" || password == "" {
		t.Fatalf("token decodes to %q, want AWS:<password>", decoded)
	}
	if left := aws.ToTime(d.ExpiresAt).Sub(srv.Options().Clock.Now()); left > 12*time.Hour || left < 12*time.Hour-time.Minute {
		t.Errorf("expiresAt = %v, want 12h from now", d.ExpiresAt)
	}
	return &authn.Basic{Username: user, Password: password}
}

func ref(t *testing.T, repo *types.Repository, tag string) name.Reference {
	t.Helper()
	return must(name.ParseReference(aws.ToString(repo.RepositoryUri) + ":" + tag))(t)
}

func registryCode(t *testing.T, err error) string {
	t.Helper()
	var te *transport.Error
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		t.Fatalf("error %v is not a registry error", err)
	}
	return string(te.Errors[0].Code)
}

func layersSize(t *testing.T, img v1.Image) int64 {
	t.Helper()
	var n int64
	for _, l := range must(img.Layers())(t) {
		n += must(l.Size())(t)
	}
	return n
}

func TestPushListPullDelete(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	repo := createRepo(t, c, "job")
	auth := remote.WithAuth(login(t, srv, c))

	img := must(random.Image(1024, 2))(t)
	digest := must(img.Digest())(t)
	if err := remote.Write(ref(t, repo, "v1"), img, auth); err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := remote.Tag(must(name.NewTag(aws.ToString(repo.RepositoryUri)+":v2"))(t), img, auth); err != nil {
		t.Fatalf("tag: %v", err)
	}

	list := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("job")}))(t)
	wantIDs := []types.ImageIdentifier{{ImageDigest: aws.String(digest.String()), ImageTag: aws.String("v1")}, {ImageDigest: aws.String(digest.String()), ImageTag: aws.String("v2")}}
	if diff := cmp.Diff(wantIDs, list.ImageIds, ignoreUnexported); diff != "" {
		t.Errorf("ListImages (-want +got):\n%s", diff)
	}
	desc := must(c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("job")}))(t)
	if len(desc.ImageDetails) != 1 {
		t.Fatalf("DescribeImages: %+v", desc.ImageDetails)
	}
	d := desc.ImageDetails[0]
	mediaType := must(img.MediaType())(t)
	if aws.ToString(d.ImageDigest) != digest.String() || !cmp.Equal(d.ImageTags, []string{"v1", "v2"}) ||
		aws.ToInt64(d.ImageSizeInBytes) != layersSize(t, img) || aws.ToString(d.ImageManifestMediaType) != string(mediaType) ||
		aws.ToString(d.RepositoryName) != "job" || d.ImagePushedAt == nil {
		t.Errorf("DescribeImages detail = %+v", d)
	}
	byTag := must(c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("job"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v2")}}}))(t)
	if len(byTag.ImageDetails) != 1 || aws.ToString(byTag.ImageDetails[0].ImageDigest) != digest.String() {
		t.Errorf("DescribeImages by tag: %+v", byTag.ImageDetails)
	}

	got := must(c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("job"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}, {ImageTag: aws.String("nope")}}}))(t)
	if len(got.Images) != 1 || aws.ToString(got.Images[0].ImageManifest) != string(must(img.RawManifest())(t)) {
		t.Errorf("BatchGetImage images: %+v", got.Images)
	}
	if len(got.Failures) != 1 || got.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound {
		t.Errorf("BatchGetImage failures: %+v", got.Failures)
	}

	pulled := must(remote.Image(ref(t, repo, "v1"), auth))(t)
	if pd := must(pulled.Digest())(t); pd != digest {
		t.Errorf("pulled digest %s, pushed %s", pd, digest)
	}
	if _, err := must(pulled.Layers())(t)[0].Compressed(); err != nil {
		t.Errorf("pull a layer: %v", err)
	}

	// Deleting one tag leaves the image; deleting the last deletes it.
	del := must(c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("job"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))(t)
	if len(del.ImageIds) != 1 || len(del.Failures) != 0 {
		t.Errorf("delete v1: %+v %+v", del.ImageIds, del.Failures)
	}
	if _, err := remote.Image(ref(t, repo, "v1"), auth); registryCode(t, err) != "MANIFEST_UNKNOWN" {
		t.Errorf("pull a deleted tag: %v, want MANIFEST_UNKNOWN", err)
	}
	must(remote.Image(ref(t, repo, "v2"), auth))(t)
	del = must(c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("job"),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(digest.String())}, {ImageTag: aws.String("missing")}}}))(t)
	wantFailures := []types.ImageFailure{{ImageId: &types.ImageIdentifier{ImageTag: aws.String("missing")}, FailureCode: types.ImageFailureCodeImageNotFound, FailureReason: aws.String("Requested image not found")}}
	if diff := cmp.Diff(wantFailures, del.Failures, ignoreUnexported); diff != "" || len(del.ImageIds) != 1 {
		t.Errorf("delete by digest: deleted %+v, failures (-want +got):\n%s", del.ImageIds, diff)
	}
	if list := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("job")}))(t); len(list.ImageIds) != 0 {
		t.Errorf("ListImages after delete: %+v", list.ImageIds)
	}
	if _, err := remote.Image(must(name.NewDigest(aws.ToString(repo.RepositoryUri)+"@"+digest.String()))(t), auth); registryCode(t, err) != "MANIFEST_UNKNOWN" {
		t.Errorf("pull a deleted digest: %v, want MANIFEST_UNKNOWN", err)
	}
}

func TestUntaggedImages(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	repo := createRepo(t, c, "job")
	auth := remote.WithAuth(login(t, srv, c))
	first, second := must(random.Image(100, 1))(t), must(random.Image(100, 1))(t)
	for _, img := range []v1.Image{first, second} {
		if err := remote.Write(ref(t, repo, "latest"), img, auth); err != nil {
			t.Fatal(err)
		}
	}
	// Moving latest leaves the first image untagged, as ECR keeps it.
	firstDigest := must(first.Digest())(t).String()
	for _, tt := range []struct {
		status types.TagStatus
		want   []types.ImageIdentifier
	}{
		{types.TagStatusUntagged, []types.ImageIdentifier{{ImageDigest: aws.String(firstDigest)}}},
		{types.TagStatusTagged, []types.ImageIdentifier{{ImageDigest: aws.String(must(second.Digest())(t).String()), ImageTag: aws.String("latest")}}},
	} {
		t.Run(string(tt.status), func(t *testing.T) {
			list := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("job"), Filter: &types.ListImagesFilter{TagStatus: tt.status}}))(t)
			if diff := cmp.Diff(tt.want, list.ImageIds, ignoreUnexported); diff != "" {
				t.Errorf("ListImages (-want +got):\n%s", diff)
			}
		})
	}
	page := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("job"), MaxResults: aws.Int32(1)}))(t)
	rest := must(c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("job"), MaxResults: aws.Int32(1), NextToken: page.NextToken}))(t)
	if len(page.ImageIds) != 1 || len(rest.ImageIds) != 1 || rest.NextToken != nil {
		t.Errorf("pages: %+v then %+v", page.ImageIds, rest.ImageIds)
	}
}

func TestRegistryRefuses(t *testing.T) {
	clock := clockwork.NewFakeClock()
	srv, c := start(t, localaws.Options{Clock: clock})
	repo := createRepo(t, c, "job")
	immutable := must(c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("fixed"), ImageTagMutability: types.ImageTagMutabilityImmutable}))(t).Repository
	good := login(t, srv, c)
	img := must(random.Image(100, 1))(t)

	t.Run("no credentials get the Basic challenge", func(t *testing.T) {
		resp := must(http.Get(srv.Endpoint() + "/v2/"))(t)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic realm=") {
			t.Errorf("GET /v2/ without credentials: %d %q, want 401 with a Basic challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	t.Run("a wrong password", func(t *testing.T) {
		err := remote.Write(ref(t, repo, "v1"), img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: "wrong"}))
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Errorf("push with a wrong password: %v, want 401", err)
		}
	})
	t.Run("a repository that does not exist", func(t *testing.T) {
		missing := must(name.ParseReference(strings.Replace(aws.ToString(repo.RepositoryUri), "/job", "/missing", 1) + ":v1"))(t)
		if err := remote.Write(missing, img, remote.WithAuth(good)); registryCode(t, err) != "NAME_UNKNOWN" {
			t.Errorf("push to a missing repository: %v, want NAME_UNKNOWN", err)
		}
	})
	t.Run("an immutable tag cannot move", func(t *testing.T) {
		if err := remote.Write(ref(t, immutable, "v1"), img, remote.WithAuth(good)); err != nil {
			t.Fatal(err)
		}
		other := must(random.Image(100, 1))(t)
		if err := remote.Write(ref(t, immutable, "v1"), other, remote.WithAuth(good)); registryCode(t, err) != "TAG_INVALID" {
			t.Errorf("move an immutable tag: %v, want TAG_INVALID", err)
		}
	})
	t.Run("an expired token", func(t *testing.T) {
		clock.Advance(12*time.Hour + time.Second)
		err := remote.Write(ref(t, repo, "v1"), img, remote.WithAuth(good))
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Errorf("push with an expired token: %v, want 401", err)
		}
	})
}

func TestDeleteRepositoryWithImages(t *testing.T) {
	srv, c := start(t, localaws.Options{})
	repo := createRepo(t, c, "job")
	auth := remote.WithAuth(login(t, srv, c))
	if err := remote.Write(ref(t, repo, "v1"), must(random.Image(100, 1))(t), auth); err != nil {
		t.Fatal(err)
	}
	_, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("job")})
	var ne *types.RepositoryNotEmptyException
	if !errors.As(err, &ne) {
		t.Fatalf("DeleteRepository with images: %v, want RepositoryNotEmptyException", err)
	}
	must(c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("job"), Force: true}))(t)
	createRepo(t, c, "job")
	if _, err := remote.Image(ref(t, repo, "v1"), auth); registryCode(t, err) != "MANIFEST_UNKNOWN" {
		t.Errorf("pull from a force-deleted and re-created repository: %v, want MANIFEST_UNKNOWN", err)
	}
}

// TestRules is the table of ECR's rules the stand-in keeps: each breaks one
// and expects AWS's error code.
func TestRules(t *testing.T) {
	arn := "arn:aws:ecr:us-east-1:000000000000:repository/"
	tests := []struct {
		rule  string
		setup bool // create the repository "repo" first
		call  func(c *ecr.Client) error
		want  string
	}{
		{rule: "names are lowercase", call: create("Repo"), want: "InvalidParameterException"},
		{rule: "names have at least 2 characters", call: create("r"), want: "InvalidParameterException"},
		{rule: "names have at most 256 characters", call: create(strings.Repeat("r", 257)), want: "InvalidParameterException"},
		{rule: "names do not start with a slash", call: create("/repo"), want: "InvalidParameterException"},
		{rule: "names do not repeat separators", call: create("re--po"), want: "InvalidParameterException"},
		{rule: "names do not end with a separator", call: create("repo."), want: "InvalidParameterException"},
		{rule: "namespaced names are valid", call: create("team/app.v2_x-y"), want: ""},
		{rule: "names are unique", setup: true, call: create("repo"), want: "RepositoryAlreadyExistsException"},
		{rule: "a KMS key only with KMS encryption", call: func(c *ecr.Client) error {
			_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("repo"),
				EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("k")}})
			return err
		}, want: "InvalidParameterException"},
		{rule: "aws: tag keys are reserved", call: func(c *ecr.Client) error {
			_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("repo"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}})
			return err
		}, want: "InvalidTagParameterException"},
		{rule: "at most 50 tags", setup: true, call: func(c *ecr.Client) error {
			var tags []types.Tag
			for i := range 51 {
				tags = append(tags, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
			}
			_, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(arn + "repo"), Tags: tags})
			return err
		}, want: "TooManyTagsException"},
		{rule: "tagging needs a repository ARN", call: func(c *ecr.Client) error {
			_, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String("repo"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, want: "InvalidParameterException"},
		{rule: "tagging a missing repository", call: func(c *ecr.Client) error {
			_, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn + "missing")})
			return err
		}, want: "RepositoryNotFoundException"},
		{rule: "describing a missing repository", call: func(c *ecr.Client) error {
			_, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"missing"}})
			return err
		}, want: "RepositoryNotFoundException"},
		{rule: "deleting a missing repository", call: func(c *ecr.Client) error {
			_, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("missing")})
			return err
		}, want: "RepositoryNotFoundException"},
		{rule: "listing images of a missing repository", call: func(c *ecr.Client) error {
			_, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("missing")})
			return err
		}, want: "RepositoryNotFoundException"},
		{rule: "deleting images of a missing repository", call: func(c *ecr.Client) error {
			_, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("missing"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
			return err
		}, want: "RepositoryNotFoundException"},
		{rule: "describing an image that does not exist", setup: true, call: func(c *ecr.Client) error {
			_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("repo"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
			return err
		}, want: "ImageNotFoundException"},
		{rule: "tag mutability is MUTABLE or IMMUTABLE", setup: true, call: func(c *ecr.Client) error {
			_, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("repo"), ImageTagMutability: "SOMETIMES"})
			return err
		}, want: "InvalidParameterException"},
		{rule: "an operation the stand-in does not serve", setup: true, call: func(c *ecr.Client) error {
			_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("repo")})
			return err
		}, want: "NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			_, c := start(t, localaws.Options{})
			if tt.setup {
				createRepo(t, c, "repo")
			}
			if got := errorCode(t, tt.call(c)); got != tt.want {
				t.Errorf("error code %q, want %q", got, tt.want)
			}
		})
	}
}

func create(name string) func(c *ecr.Client) error {
	return func(c *ecr.Client) error {
		_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
		return err
	}
}

func TestBatchDeleteImageFailures(t *testing.T) {
	_, c := start(t, localaws.Options{})
	createRepo(t, c, "repo")
	out := must(c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("repo"), ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("v1")},
		{ImageDigest: aws.String("sha256:" + strings.Repeat("a", 64))},
		{ImageDigest: aws.String("not a digest")},
		{},
	}}))(t)
	var codes []types.ImageFailureCode
	for _, f := range out.Failures {
		codes = append(codes, f.FailureCode)
	}
	want := []types.ImageFailureCode{types.ImageFailureCodeImageNotFound, types.ImageFailureCodeImageNotFound,
		types.ImageFailureCodeInvalidImageDigest, types.ImageFailureCodeMissingDigestAndTag}
	if diff := cmp.Diff(want, codes); diff != "" || len(out.ImageIds) != 0 {
		t.Errorf("failure codes (-want +got):\n%s\ndeleted: %+v", diff, out.ImageIds)
	}
}

func TestThrottlingException(t *testing.T) {
	_, c := start(t, localaws.Options{ThrottleRate: 1})
	_, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	if got := errorCode(t, err); got != "ThrottlingException" {
		t.Errorf("throttled call: %q, want ThrottlingException", got)
	}
}
