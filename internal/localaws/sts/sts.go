package sts

import (
	"net/http"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's STS.
type Service struct {
	env awsproto.Env
}

// New returns the stand-in's STS for env's account.
func New(env awsproto.Env) *Service { return &Service{env: env} }

type callerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

// ServeHTTP answers one STS query-protocol request.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		awsproto.WriteQueryError(w, awsproto.Errorf(http.StatusBadRequest, "MalformedQueryString", "parse request: %v", err))
		return
	}
	switch action := r.Form.Get("Action"); action {
	case "GetCallerIdentity":
		// The root user's ID is the account ID, as AWS reports it.
		awsproto.WriteQuery(w, awsproto.STSNamespace, action, callerIdentity{
			Arn:     "arn:aws:iam::" + s.env.Account + ":root",
			UserId:  s.env.Account,
			Account: s.env.Account,
		})
	default:
		awsproto.WriteQueryError(w, awsproto.NotImplemented("STS", action))
	}
}

// Operation is the request's Action.
func (s *Service) Operation(r *http.Request, body []byte) string {
	return awsproto.QueryAction(r, body)
}

// WriteError writes e as STS does.
func (s *Service) WriteError(w http.ResponseWriter, _ *http.Request, e *awsproto.Error) {
	awsproto.WriteQueryError(w, e)
}

// ThrottleError is STS's rate limit answer.
func (s *Service) ThrottleError() *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "Throttling", "Rate exceeded")
}
