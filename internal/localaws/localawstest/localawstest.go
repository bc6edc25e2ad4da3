package localawstest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/sdkhttp"
)

// Start serves a new stand-in on a loopback port for the test's lifetime and
// returns it with a config for the unmodified SDK: the stand-in's URL as the
// base endpoint, its region, and dummy static credentials. Its X-Ray daemon
// listens on a free loopback port (srv.DaemonAddr()). Retries are off, so
// injected errors and throttles reach the caller; the HTTP client is
// batchxray's own (internal/sdkhttp), as the CLI's is.
func Start(t testing.TB, opts localaws.Options) (*localaws.Server, aws.Config) {
	t.Helper()
	srv := localaws.New(opts)
	ts := httptest.NewServer(srv)
	srv.SetEndpoint(ts.URL)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	// Every test gets an X-Ray daemon, as `batchxray local` runs one.
	if _, err := srv.StartDaemon("127.0.0.1:0"); err != nil {
		t.Fatalf("start the stand-in's X-Ray daemon: %v", err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(srv.Options().Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local-secret", "")),
		config.WithBaseEndpoint(ts.URL),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatalf("load config for the stand-in: %v", err)
	}
	sdkhttp.Install(&cfg)
	return srv, cfg
}
