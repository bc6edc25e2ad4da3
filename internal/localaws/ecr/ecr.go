package ecr

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's ECR. It serves the control plane over HTTP in
// JSON 1.1; Registry serves the images.
type Service struct {
	awsproto.JSON
	env      awsproto.Env
	endpoint func() string
	// inner is the OCI registry that holds manifests; blobs are in its
	// blob handler, which uploads fills (see blobs.go).
	inner   http.Handler
	uploads *uploads

	// mu guards what follows, and is held across a manifest PUT or DELETE
	// in the registry so that the index and the registry change together.
	mu     sync.Mutex
	repos  map[string]*repository
	tokens map[string]time.Time // password → expiry
}

// New returns an ECR with no repositories. endpoint returns the stand-in's
// URL once it listens (or ""): repositoryUri and proxyEndpoint name it.
func New(env awsproto.Env, endpoint func() string) *Service {
	if endpoint == nil {
		endpoint = func() string { return "" }
	}
	logger := log.New(io.Discard, "", 0)
	if env.Logger != nil {
		logger = slog.NewLogLogger(env.Logger.Handler(), slog.LevelDebug)
	}
	blobs := newBlobStore()
	s := &Service{
		env:      env,
		endpoint: endpoint,
		inner:    registry.New(registry.Logger(logger), registry.WithBlobHandler(blobs)),
		uploads:  newUploads(blobs),
		repos:    map[string]*repository{},
		tokens:   map[string]time.Time{},
	}
	s.JSON = awsproto.JSON{Name: "ecr", Ops: s.operations()}
	return s
}

// call decodes the body into In and runs f under the service's lock.
func call[In any](s *Service, f func(in *In) (any, error)) func([]byte) (any, error) {
	return func(body []byte) (any, error) {
		in := new(In)
		if len(body) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, awsproto.Errorf(http.StatusBadRequest, "SerializationException", "decode request: %v", err)
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return f(in)
	}
}

// operations are ECR's control-plane operations by name.
func (s *Service) operations() map[string]func([]byte) (any, error) {
	return map[string]func([]byte) (any, error){
		"CreateRepository":              call(s, s.createRepository),
		"DescribeRepositories":          call(s, s.describeRepositories),
		"DeleteRepository":              call(s, s.deleteRepository),
		"PutImageTagMutability":         call(s, s.putImageTagMutability),
		"PutImageScanningConfiguration": call(s, s.putImageScanningConfiguration),
		"TagResource":                   call(s, s.tagResource),
		"UntagResource":                 call(s, s.untagResource),
		"ListTagsForResource":           call(s, s.listTagsForResource),
		"GetAuthorizationToken":         call(s, s.getAuthorizationToken),
		"ListImages":                    call(s, s.listImages),
		"DescribeImages":                call(s, s.describeImages),
		"BatchGetImage":                 call(s, s.batchGetImage),
		"BatchDeleteImage":              call(s, s.batchDeleteImage),
	}
}

// epoch is a timestamp as JSON 1.1 sends it: seconds since the epoch.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)), nil
}

func invalidParameter(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidParameterException", format, a...)
}

// registryHost is the host (and port) images are pushed to: the stand-in's
// own address once known, else ECR's registry host name.
func (s *Service) registryHost() string {
	if u, err := url.Parse(s.endpoint()); err == nil && u.Host != "" {
		return u.Host
	}
	return s.env.Account + ".dkr.ecr." + s.env.Region + ".amazonaws.com"
}

// proxyEndpoint is the registry's URL as GetAuthorizationToken gives it.
func (s *Service) proxyEndpoint() string {
	if u, err := url.Parse(s.endpoint()); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return "https://" + s.registryHost()
}

// paginate returns the page of n items that token starts at, and the token
// of the next page ("" when none). max ≤ 0 means def.
func paginate(n int, token string, max, def int) (start, end int, next string, err error) {
	if max <= 0 {
		max = def
	}
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		start, err = strconv.Atoi(string(b))
		if derr != nil || err != nil || start < 0 || start > n {
			return 0, 0, "", invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'invalid token'")
		}
	}
	end = min(start+max, n)
	if end < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return start, end, next, nil
}
