package image

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// ECRAuthorizer is the one ECR call the credentials make.
type ECRAuthorizer interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

var _ ECRAuthorizer = (*ecr.Client)(nil)

// ecrHost is an ECR registry's host name (IPv4 or dual-stack endpoint);
// the one non-empty submatch is its region.
var ecrHost = regexp.MustCompile(`^[0-9]{12}\.(?:dkr(?:-fips)?\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)$`)

// ecrRegion is the region of an ECR registry host, "" for another host.
func ecrRegion(host string) string {
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

// Credentials finds the login for a registry, in this order: a login given
// with AddLogin (the stack's registry, whose token `up` already has); for an
// ECR registry (by its host name, or the host GetAuthorizationToken's
// proxyEndpoint names), ECR's authorization token; else the docker config
// (Keychain, authn.DefaultKeychain when nil), which is anonymous when it
// has nothing for the registry. The zero value uses the docker config only.
type Credentials struct {
	// ECR gets ECR's authorization tokens; nil means no ECR logins.
	ECR ECRAuthorizer
	// Keychain is the docker config; nil means authn.DefaultKeychain.
	Keychain authn.Keychain

	mu     sync.Mutex
	logins map[string]authn.Authenticator
	tokens map[string]ecrToken // by region, "" for the client's own
}

type ecrToken struct {
	auth  authn.Authenticator
	host  string // the proxyEndpoint's host
	err   error
	asked bool
}

// AddLogin makes registry (a host[:port]) use this user and password.
func (c *Credentials) AddLogin(registry, username, password string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.logins == nil {
		c.logins = map[string]authn.Authenticator{}
	}
	c.logins[registry] = &authn.Basic{Username: username, Password: password}
}

// resolve returns the login for reg and what it is, for error messages.
func (c *Credentials) resolve(ctx context.Context, reg name.Registry) (authn.Authenticator, string, error) {
	host := reg.RegistryStr()
	c.mu.Lock()
	a, ok := c.logins[host]
	c.mu.Unlock()
	if ok {
		return a, "the login given for " + host, nil
	}
	if c.ECR != nil {
		if region := ecrRegion(host); region != "" {
			t := c.token(ctx, region)
			if t.err != nil {
				return nil, "an ECR authorization token", fmt.Errorf("get an ECR authorization token for region %s: %w", region, t.err)
			}
			return t.auth, "an ECR authorization token (region " + region + ")", nil
		}
		// The stand-in's registry, and any ECR behind another name: the
		// host the token is for. An error here means this is no ECR.
		if t := c.token(ctx, ""); t.err == nil && t.host == host {
			return t.auth, "an ECR authorization token", nil
		}
	}
	kc := c.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	a, err := kc.Resolve(reg)
	if err != nil {
		return nil, "the docker config", fmt.Errorf("read the docker config: %w", err)
	}
	if a == authn.Anonymous {
		return a, "no credentials (nothing for " + host + " in the docker config)", nil
	}
	return a, "the docker config's credentials for " + host, nil
}

// token asks ECR for a token once per region ("" is the client's region).
func (c *Credentials) token(ctx context.Context, region string) ecrToken {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = map[string]ecrToken{}
	}
	if t, ok := c.tokens[region]; ok && t.asked {
		return t
	}
	var opts []func(*ecr.Options)
	if region != "" {
		opts = append(opts, func(o *ecr.Options) { o.Region = region })
	}
	t := ecrToken{asked: true}
	t.auth, t.host, t.err = ecrLogin(ctx, c.ECR, opts)
	c.tokens[region] = t
	return t
}

func ecrLogin(ctx context.Context, api ECRAuthorizer, opts []func(*ecr.Options)) (authn.Authenticator, string, error) {
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}, opts...)
	if err != nil {
		return nil, "", err
	}
	if len(out.AuthorizationData) == 0 {
		return nil, "", fmt.Errorf("no authorization data")
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
	if err != nil {
		return nil, "", fmt.Errorf("decode the token: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, "", fmt.Errorf("decode the token: not user:password")
	}
	host := ""
	if u, err := url.Parse(aws.ToString(d.ProxyEndpoint)); err == nil {
		host = u.Host
	}
	return &authn.Basic{Username: user, Password: pass}, host, nil
}
