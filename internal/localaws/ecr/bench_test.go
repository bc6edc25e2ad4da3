package ecr_test

import (
	"fmt"
	"testing"

	"encoding/base64"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"strings"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

// BenchmarkPushImage measures pushing a new two-layer image (2 × 256 KiB)
// with go-containerregistry through the stand-in's registry, Basic auth
// and index bookkeeping included.
func BenchmarkPushImage(b *testing.B) {
	_, cfg := localawstest.Start(b, localaws.Options{})
	c := ecr.NewFromConfig(cfg)
	repo, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	user, password, _ := strings.Cut(string(raw), ":")
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		img, err := random.Image(256<<10, 2)
		if err != nil {
			b.Fatal(err)
		}
		ref, err := name.ParseReference(fmt.Sprintf("%s:t%d", aws.ToString(repo.Repository.RepositoryUri), i))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := remote.Write(ref, img, auth); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
}
