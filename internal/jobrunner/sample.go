package jobrunner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxBody bounds what one fetch may hold in memory for its upload.
const maxBody = 256 << 20

// httpStatusError is a response that was not 2xx.
type httpStatusError struct {
	URL    string
	Status string
	Code   int
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("GET %s: %s", e.URL, e.Status) }

// HTTPStatusCode lets classify tell a 4xx error from a 5xx fault.
func (e *httpStatusError) HTTPStatusCode() int { return e.Code }

// sample does the sample work: for each URL, a traced GET, then a traced S3
// PutObject of the body. It stops at the first failure, which ends its step
// with the error; a signal ends the step with the signal's error instead.
func (r *runner) sample(ctx context.Context) error {
	ctx, stop := r.watchSignals(ctx)
	defer stop()
	var s3c *s3.Client
	if !r.o.NoUpload {
		if r.o.AWSConfig == nil {
			return fmt.Errorf("upload to %q: no AWS configuration", r.o.Bucket)
		}
		cfg, err := r.o.AWSConfig(ctx)
		if err != nil {
			return err
		}
		// A copy: the caller's config stays uninstrumented.
		cfg.APIOptions = slices.Clone(cfg.APIOptions)
		r.t.InstrumentAWS(&cfg)
		s3c = s3.NewFromConfig(cfg, func(o *s3.Options) {
			// An endpoint override means a stand-in or an S3-compatible
			// store, which want path-style URLs.
			o.UsePathStyle = cfg.BaseEndpoint != nil
		})
	}
	client := r.t.HTTPClient(r.o.HTTPClient)
	for i, u := range r.o.URLs {
		var body []byte
		var ctype string
		err := r.step(ctx, "fetch", func(ctx context.Context, sp span) error {
			sp.Metadata("url", redactURL(u))
			var err error
			body, ctype, err = fetch(ctx, client, u)
			if err == nil {
				sp.Metadata("bytes", len(body))
			}
			return err
		})
		if err != nil {
			return err
		}
		r.logf("fetched %s (%d bytes)", redactURL(u), len(body))
		if s3c == nil {
			continue
		}
		key := objectKey(r.job.ID, i, u)
		err = r.step(ctx, "upload", func(ctx context.Context, sp span) error {
			sp.Metadata("bucket", r.o.Bucket)
			sp.Metadata("key", key)
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String(r.o.Bucket),
				Key:    aws.String(key),
				// Seekable: the SDK's checksum needs to read the body twice
				// over plain HTTP.
				Body:        bytes.NewReader(body),
				ContentType: aws.String(ctype),
			})
			if err != nil {
				return fmt.Errorf("put s3://%s/%s: %w", r.o.Bucket, key, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.logf("uploaded s3://%s/%s", r.o.Bucket, key)
	}
	return nil
}

// step runs fn under a child span of ctx's span and ends the span with fn's
// error, or with the signal's when a signal cut fn short.
func (r *runner) step(ctx context.Context, name string, fn func(context.Context, span) error) error {
	ctx, sp := r.t.BeginChild(ctx, name)
	err := fn(ctx, sp)
	if err != nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	sp.End(err)
	return err
}

func fetch(ctx context.Context, client *http.Client, u string) (body []byte, contentType string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redactURL(ue.URL)
		}
		return nil, "", err // a *url.Error names the method and URL
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, "", &httpStatusError{URL: redactURL(u), Status: resp.Status, Code: resp.StatusCode}
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: read the body: %w", redactURL(u), err)
	}
	if len(body) > maxBody {
		return nil, "", fmt.Errorf("GET %s: the body is larger than %d MiB", redactURL(u), maxBody>>20)
	}
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/octet-stream"
	}
	return body, ct, nil
}

// objectKey is jobs/<job ID>/<n>-<last path element or host>, n counting
// from 1, so several URLs with the same file name do not collide.
func objectKey(jobID string, i int, raw string) string {
	name := "body"
	if u, err := url.Parse(raw); err == nil {
		name = u.Host
		if base := u.Path[strings.LastIndex(u.Path, "/")+1:]; base != "" {
			name = base
		}
	}
	return fmt.Sprintf("jobs/%s/%d-%s", jobID, i+1, name)
}

// redactURL drops the query and any password: a presigned URL's query is a
// credential, and traces and logs are read by many.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.RawQuery = ""
	u.ForceQuery = false
	if _, ok := u.User.Password(); ok {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}
