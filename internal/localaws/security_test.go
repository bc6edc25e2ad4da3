package localaws_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/batchxray/batchxray/internal/localaws"
)

// serve starts a stand-in and returns its listener's address.
func serve(t *testing.T, opts localaws.Options) (*localaws.Server, string) {
	t.Helper()
	srv := localaws.New(opts)
	ts := httptest.NewServer(srv)
	srv.SetEndpoint(ts.URL)
	t.Cleanup(func() { ts.Close(); _ = srv.Close() })
	return srv, ts.Listener.Addr().String()
}

// stsVia is the unmodified SDK calling endpoint, its connections dialled to
// addr whatever the endpoint's host, as a name rebound to 127.0.0.1 does.
func stsVia(endpoint, addr string, creds aws.CredentialsProvider) *sts.Client {
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return sts.New(sts.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: creds,
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}},
	})
}

var anyKey = credentials.NewStaticCredentialsProvider("any", "key", "")

func TestOnlyLoopbackHostsAreAnswered(t *testing.T) {
	srv, addr := serve(t, localaws.Options{})
	_, port, _ := net.SplitHostPort(addr)
	for _, tt := range []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"localhost", true},
		{"LOCALHOST", true},
		{"bucket.localhost", true},
		{"[::1]", true},
		{"127.1.2.3", true},
		// A DNS-rebinding page: its own name, resolved to 127.0.0.1.
		{"attacker.example", false},
		{"localhost.attacker.example", false},
		{"10.0.0.1", false},
	} {
		t.Run(tt.host, func(t *testing.T) {
			srv.ResetCalls()
			_, err := stsVia("http://"+tt.host+":"+port, addr, anyKey).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if tt.ok {
				if err != nil {
					t.Fatalf("GetCallerIdentity via Host %s: %v", tt.host, err)
				}
				return
			}
			var re interface{ HTTPStatusCode() int }
			if err == nil || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
				t.Fatalf("GetCallerIdentity via Host %s: %v, want 403", tt.host, err)
			}
			if calls := srv.Calls(); len(calls) != 0 {
				t.Errorf("a request to Host %s reached the services: %v", tt.host, calls)
			}
		})
	}
}

func TestRegistryAnswersOnlyLoopbackHosts(t *testing.T) {
	_, addr := serve(t, localaws.Options{})
	_, port, _ := net.SplitHostPort(addr)
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "attacker.example:" + port
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /v2/ via Host %s = %d, want 403", req.Host, resp.StatusCode)
	}
}

func TestAllowRemoteAnswersAnyHost(t *testing.T) {
	_, addr := serve(t, localaws.Options{AllowRemote: true})
	_, port, _ := net.SplitHostPort(addr)
	if _, err := stsVia("http://batch-host.example:"+port, addr, anyKey).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity with AllowRemote: %v", err)
	}
}

func TestUnsignedRequestsAreRefused(t *testing.T) {
	srv, addr := serve(t, localaws.Options{})
	_, err := stsVia("http://"+addr, addr, aws.AnonymousCredentials{}).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned GetCallerIdentity: %v, want MissingAuthenticationTokenException", err)
	}
	if calls := srv.Calls(); len(calls) != 0 {
		t.Errorf("an unsigned request reached the services: %v", calls)
	}
}
