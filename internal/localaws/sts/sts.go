package sts

import (
	"net/url"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's STS.
type Service struct {
	awsproto.Query
	env awsproto.Env
}

// New returns the stand-in's STS for env's account.
func New(env awsproto.Env) *Service {
	s := &Service{env: env}
	s.Query = awsproto.Query{Name: "STS", Namespace: awsproto.STSNamespace, Ops: map[string]func(url.Values) (any, error){
		"GetCallerIdentity": s.getCallerIdentity,
	}}
	return s
}

type callerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

// getCallerIdentity answers as for the root user, whose ID is the account
// ID, as AWS reports it.
func (s *Service) getCallerIdentity(url.Values) (any, error) {
	return callerIdentity{
		Arn:     "arn:aws:iam::" + s.env.Account + ":root",
		UserId:  s.env.Account,
		Account: s.env.Account,
	}, nil
}
