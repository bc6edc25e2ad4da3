package s3

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's S3. It serves HTTP in S3's REST-XML protocol.
type Service struct {
	awsproto.S3
	env      awsproto.Env
	endpoint func() string
	backend  *s3mem.Backend
	fake     http.Handler
	own      map[string]handler

	// mu guards buckets and keeps them in step with the backend's buckets:
	// CreateBucket and DeleteBucket change both under it.
	mu      sync.Mutex
	buckets map[string]*bucket
}

// New returns an S3 with no buckets. endpoint returns the stand-in's URL
// once it listens (or ""): a request whose host is a subdomain of its host
// name addresses a bucket virtual-host style, as do subdomains of localhost
// and of s3.amazonaws.com.
func New(env awsproto.Env, endpoint func() string) *Service {
	backend := s3mem.New(s3mem.WithTimeSource(env.Clock))
	fake := gofakes3.New(backend,
		gofakes3.WithTimeSource(env.Clock),
		// SigV4 dates come from the caller's real clock while env.Clock may
		// be a test's fake one; the stand-in does not check signatures.
		gofakes3.WithTimeSkewLimit(0),
	)
	if endpoint == nil {
		endpoint = func() string { return "" }
	}
	s := &Service{
		env:      env,
		endpoint: endpoint,
		backend:  backend,
		fake:     fake.Server(),
		buckets:  map[string]*bucket{},
	}
	s.own = s.handlers()
	return s
}

// Operation names the S3 operation of r from its method, whether it
// addresses a bucket or an object, and its sub-resource query.
func (s *Service) Operation(r *http.Request, _ []byte) string {
	bucket, key := s.target(r)
	return operation(r.Method, bucket, key, r.URL.Query(), r.Header)
}

// ServeHTTP answers one S3 request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key := s.target(r)
	op := operation(r.Method, bucket, key, r.URL.Query(), r.Header)
	if e := prepareBody(r); e != nil {
		s.WriteError(w, r, e)
		return
	}
	if h, ok := s.own[op]; ok {
		if e := h(w, r, bucket); e != nil {
			s.WriteError(w, r, e)
		}
		return
	}
	if !forwarded()[op] {
		s.WriteError(w, r, awsproto.NotImplemented("s3", op))
		return
	}
	// gofakes3 routes by path only: give it the path-style form of a
	// virtual-host request, and only the headers that belong to the object.
	r.URL.Path = "/" + bucket
	if key != "" {
		r.URL.Path += "/" + key
	}
	r.URL.RawPath = ""
	if op == "GetObject" || op == "HeadObject" {
		w = withChecksumsOnlyWhenAsked(w, r)
	}
	stripPlumbing(r.Header)
	s.fake.ServeHTTP(w, r)
}

// handlers are the operations this package answers itself, by name.
type handler func(w http.ResponseWriter, r *http.Request, bucket string) *awsproto.Error

func (s *Service) handlers() map[string]handler {
	return map[string]handler{
		"CreateBucket":            s.createBucket,
		"DeleteBucket":            s.deleteBucket,
		"HeadBucket":              s.headBucket,
		"GetBucketLocation":       s.getBucketLocation,
		"PutBucketTagging":        s.putBucketTagging,
		"GetBucketTagging":        s.getBucketTagging,
		"DeleteBucketTagging":     s.deleteBucketTagging,
		"PutPublicAccessBlock":    s.putPublicAccessBlock,
		"GetPublicAccessBlock":    s.getPublicAccessBlock,
		"DeletePublicAccessBlock": s.deletePublicAccessBlock,
		"PutBucketEncryption":     s.putBucketEncryption,
		"GetBucketEncryption":     s.getBucketEncryption,
		"DeleteBucketEncryption":  s.deleteBucketEncryption,
	}
}

// forwarded are the operations gofakes3 answers as S3 does.
var forwarded = sync.OnceValue(func() map[string]bool {
	return map[string]bool{
		"ListBuckets": true, "ListObjects": true, "ListObjectsV2": true, "ListObjectVersions": true,
		"GetBucketVersioning": true, "PutBucketVersioning": true,
		"GetObject": true, "HeadObject": true, "PutObject": true, "CopyObject": true,
		"DeleteObject": true, "DeleteObjects": true,
		"CreateMultipartUpload": true, "UploadPart": true, "ListParts": true,
		"CompleteMultipartUpload": true, "AbortMultipartUpload": true, "ListMultipartUploads": true,
	}
})

// target is the bucket and key r addresses: from the host when it is a
// subdomain of a known S3 host (virtual-host style), else from the path.
func (s *Service) target(r *http.Request) (bucket, key string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for _, base := range s.hostBases() {
		if b, ok := strings.CutSuffix(host, "."+base); ok && b != "" {
			return b, path
		}
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// hostBases are the host names whose subdomains name buckets.
func (s *Service) hostBases() []string {
	bases := []string{"localhost", "s3.amazonaws.com", "s3." + s.env.Region + ".amazonaws.com"}
	if u, err := url.Parse(s.endpoint()); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		bases = append(bases, u.Hostname())
	}
	return bases
}

// subresource is one query sub-resource and the operation it selects for
// each method.
type subresource struct {
	query string
	ops   map[string]string
}

// crud names the Get, Put and Delete operations of a sub-resource.
func crud(get, put, del string) map[string]string {
	m := map[string]string{}
	for method, op := range map[string]string{http.MethodGet: get, http.MethodPut: put, http.MethodDelete: del} {
		if op != "" {
			m[method] = op
		}
	}
	return m
}

// bucketSubresources are checked in order, so that the one that selects
// the operation wins when a request carries several query parameters.
var bucketSubresources = sync.OnceValue(func() []subresource {
	return []subresource{
		{"tagging", crud("GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging")},
		{"publicAccessBlock", crud("GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock")},
		{"encryption", crud("GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption")},
		{"location", crud("GetBucketLocation", "", "")},
		{"versioning", crud("GetBucketVersioning", "PutBucketVersioning", "")},
		{"versions", crud("ListObjectVersions", "", "")},
		{"uploads", crud("ListMultipartUploads", "", "")},
		{"delete", map[string]string{http.MethodPost: "DeleteObjects"}},
		{"policy", crud("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy")},
		{"policyStatus", crud("GetBucketPolicyStatus", "", "")},
		{"acl", crud("GetBucketAcl", "PutBucketAcl", "")},
		{"cors", crud("GetBucketCors", "PutBucketCors", "DeleteBucketCors")},
		{"lifecycle", crud("GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle")},
		{"ownershipControls", crud("GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls")},
		{"notification", crud("GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", "")},
		{"website", crud("GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite")},
		{"logging", crud("GetBucketLogging", "PutBucketLogging", "")},
		{"replication", crud("GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication")},
		{"object-lock", crud("GetObjectLockConfiguration", "PutObjectLockConfiguration", "")},
		{"accelerate", crud("GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration", "")},
		{"requestPayment", crud("GetBucketRequestPayment", "PutBucketRequestPayment", "")},
		{"analytics", crud("GetBucketAnalyticsConfiguration", "PutBucketAnalyticsConfiguration", "DeleteBucketAnalyticsConfiguration")},
		{"metrics", crud("GetBucketMetricsConfiguration", "PutBucketMetricsConfiguration", "DeleteBucketMetricsConfiguration")},
		{"inventory", crud("GetBucketInventoryConfiguration", "PutBucketInventoryConfiguration", "DeleteBucketInventoryConfiguration")},
		{"intelligent-tiering", crud("GetBucketIntelligentTieringConfiguration", "PutBucketIntelligentTieringConfiguration", "DeleteBucketIntelligentTieringConfiguration")},
		{"metadataTable", crud("GetBucketMetadataTableConfiguration", "", "DeleteBucketMetadataTableConfiguration")},
	}
})

var objectSubresources = sync.OnceValue(func() []subresource {
	return []subresource{
		{"uploadId", map[string]string{http.MethodGet: "ListParts", http.MethodPut: "UploadPart", http.MethodPost: "CompleteMultipartUpload", http.MethodDelete: "AbortMultipartUpload"}},
		{"uploads", map[string]string{http.MethodPost: "CreateMultipartUpload"}},
		{"tagging", crud("GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging")},
		{"acl", crud("GetObjectAcl", "PutObjectAcl", "")},
		{"retention", crud("GetObjectRetention", "PutObjectRetention", "")},
		{"legal-hold", crud("GetObjectLegalHold", "PutObjectLegalHold", "")},
		{"attributes", crud("GetObjectAttributes", "", "")},
		{"torrent", crud("GetObjectTorrent", "", "")},
		{"restore", map[string]string{http.MethodPost: "RestoreObject"}},
		{"select", map[string]string{http.MethodPost: "SelectObjectContent"}},
		{"renameObject", crud("", "RenameObject", "")},
	}
})

// operation names the S3 operation of a request, or "" when it matches
// none (a method S3 does not serve there).
func operation(method, bucket, key string, q url.Values, h http.Header) string {
	if bucket == "" {
		if method == http.MethodGet {
			return "ListBuckets"
		}
		return ""
	}
	subs, plain := bucketSubresources(), map[string]string{
		http.MethodGet: "ListObjects", http.MethodPut: "CreateBucket",
		http.MethodDelete: "DeleteBucket", http.MethodHead: "HeadBucket", http.MethodPost: "PostObject",
	}
	if q.Get("list-type") == "2" {
		plain[http.MethodGet] = "ListObjectsV2"
	}
	if key != "" {
		subs, plain = objectSubresources(), map[string]string{
			http.MethodGet: "GetObject", http.MethodHead: "HeadObject",
			http.MethodPut: "PutObject", http.MethodDelete: "DeleteObject",
		}
		if h.Get("X-Amz-Copy-Source") != "" {
			plain[http.MethodPut] = "CopyObject"
		}
	}
	for _, sub := range subs {
		if _, ok := q[sub.query]; ok {
			op := sub.ops[method]
			if op == "UploadPart" && h.Get("X-Amz-Copy-Source") != "" {
				op = "UploadPartCopy"
			}
			return op
		}
	}
	return plain[method]
}

// scopeRegion matches the region of a SigV4 credential scope.
var scopeRegion = awsproto.Pattern(`Credential=[^/]+/\d{8}/([^/]+)/s3/aws4_request`)

// requestRegion is the region a request was signed for: the endpoint's
// region, in AWS's terms. Unsigned requests are for the stand-in's region.
func (s *Service) requestRegion(r *http.Request) string {
	if m := scopeRegion().FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return s.env.Region
}

// fromFake turns an error from the gofakes3 backend into S3's.
func fromFake(err error) *awsproto.Error {
	var ge gofakes3.Error
	if errors.As(err, &ge) {
		code := ge.ErrorCode()
		msg := code.Message()
		if msg == "" {
			msg = ge.Error()
		}
		return awsproto.Errorf(code.Status(), string(code), "%s", msg)
	}
	return awsproto.AsError(err)
}
