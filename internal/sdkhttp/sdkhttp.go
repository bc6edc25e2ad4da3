package sdkhttp

import (
	"bytes"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// MaxCopy is the largest request body copied; larger bodies (big S3
// uploads) are passed through as they are.
const MaxCopy = 1 << 20

// Client wraps an SDK HTTP client so that net/http reads its own copy of
// each small request body, which the SDK's early close cannot reach.
func Client(inner aws.HTTPClient) aws.HTTPClient {
	return client{inner}
}

type client struct{ inner aws.HTTPClient }

func (c client) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength > 0 && r.ContentLength <= MaxCopy {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return c.inner.Do(r)
}

// Install wraps cfg's HTTP client with Client. Call it after
// config.LoadDefaultConfig: the loader applies AWS_CA_BUNDLE to the SDK's own
// client type only, so the wrapper must come last.
func Install(cfg *aws.Config) {
	inner := cfg.HTTPClient
	if inner == nil {
		inner = awshttp.NewBuildableClient()
	}
	if _, done := inner.(client); !done {
		cfg.HTTPClient = Client(inner)
	}
}
