package localaws

import (
	"net/http"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/iam"
	"github.com/batchxray/batchxray/internal/localaws/s3"
	"github.com/batchxray/batchxray/internal/localaws/sts"
)

// New returns a stand-in with every service, ready to serve.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:     opts,
		services: map[string]Service{},
		mounts:   map[string]http.Handler{},
	}
	env := awsproto.Env{Account: opts.Account, Region: opts.Region, Clock: opts.Clock, Logger: opts.Logger}
	_ = env
	// Services are registered here by their SigV4 signing name.
	s.services["iam"] = iam.New(env, opts.IAMPropagation)
	s.services["sts"] = sts.New(env)
	s.services["s3"] = s3.New(env, s.Endpoint)
	return s
}

// SetEndpoint tells the stand-in the URL it is reached at, once it listens:
// jobs it runs get it as AWS_ENDPOINT_URL.
func (s *Server) SetEndpoint(url string) { s.endpoint.Store(&url) }

// Endpoint is the URL set by SetEndpoint, or "".
func (s *Server) Endpoint() string {
	if p := s.endpoint.Load(); p != nil {
		return *p
	}
	return ""
}

// Close stops what the services run in the background.
func (s *Server) Close() error {
	for _, c := range s.closers {
		c()
	}
	return nil
}
