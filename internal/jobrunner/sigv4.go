package jobrunner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sigv4Transport signs every request with SigV4 for one service and
// region: X-Ray's OTLP endpoint takes only signed requests, made with the
// job role's credentials.
type sigv4Transport struct {
	base    http.RoundTripper
	creds   aws.CredentialsProvider
	signer  *v4.Signer
	service string
	region  string
	now     func() time.Time
}

func newSigV4Transport(base http.RoundTripper, creds aws.CredentialsProvider, service, region string) *sigv4Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &sigv4Transport{base: base, creds: creds, signer: v4.NewSigner(), service: service, region: region, now: time.Now}
}

// RoundTrip signs a copy of req: a RoundTripper must not change the
// request it is given. The body is read once to hash it, as SigV4 wants
// the payload's SHA-256.
func (t *sigv4Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sign the request: read its body: %w", err)
		}
	}
	sum := sha256.Sum256(body)
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	creds, err := t.creds.Retrieve(req.Context())
	if err != nil {
		return nil, fmt.Errorf("sign the request: credentials: %w", err)
	}
	if err := t.signer.SignHTTP(req.Context(), creds, out, hex.EncodeToString(sum[:]), t.service, t.region, t.now()); err != nil {
		return nil, fmt.Errorf("sign the request: %w", err)
	}
	return t.base.RoundTrip(out)
}
