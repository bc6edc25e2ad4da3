package localaws

import (
	"net/http"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/batch"
	"github.com/batchxray/batchxray/internal/localaws/ec2"
	"github.com/batchxray/batchxray/internal/localaws/ecr"
	"github.com/batchxray/batchxray/internal/localaws/events"
	"github.com/batchxray/batchxray/internal/localaws/iam"
	"github.com/batchxray/batchxray/internal/localaws/logs"
	"github.com/batchxray/batchxray/internal/localaws/s3"
	"github.com/batchxray/batchxray/internal/localaws/sts"
	"github.com/batchxray/batchxray/internal/localaws/xray"
)

// New returns a stand-in with every service, ready to serve.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:     opts,
		services: map[string]awsproto.Service{},
		mounts:   map[string]http.Handler{},
	}
	env := awsproto.Env{Account: opts.Account, Region: opts.Region, Clock: opts.Clock, Logger: opts.Logger}
	s.mounts[SamplePath] = http.HandlerFunc(s.serveSample)
	// Services are registered here by their SigV4 signing name.
	iamService := iam.New(env, opts.IAMPropagation)
	s.services["iam"] = iamService
	s.services["sts"] = sts.New(env)
	s.services["ec2"] = ec2.New(env, ec2.Config{NoDefaultVPC: opts.NoDefaultVPC})
	logsService := logs.New(env)
	s.services["logs"] = logsService
	ecrService := ecr.New(env, s.Endpoint)
	eventsService := events.New(env, events.Config{Logs: logsService})
	s.services["events"] = eventsService
	batchService := batch.New(env, batch.Config{
		Images:        ecrService,
		Events:        eventsService,
		Profiles:      iamService,
		Logs:          logsService,
		Endpoint:      s.Endpoint,
		DaemonAddr:    s.DaemonAddr,
		OTLPAddr:      s.OTLPAddr,
		Executable:    opts.Executable,
		ResourceDelay: opts.ComputeEnvironmentDelay,
		Retention:     opts.BatchRetention,
	})
	s.services["batch"] = batchService
	s.batch = batchService
	s.closers = append(s.closers, batchService.Close)
	s.services["s3"] = s3.New(env, s.Endpoint)
	s.services["ecr"] = ecrService
	s.mounts["/v2/"] = ecrService.Registry()
	xrayConfig := opts.XRay
	if xrayConfig.Spans == nil {
		xrayConfig.Spans = logsService
	}
	s.xray = xray.New(env, xrayConfig)
	s.services["xray"] = s.xray
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
