package jobrunner

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The tracers Options.Tracer names.
const (
	// TracerXRay is the X-Ray SDK for Go, to the daemon over UDP (the
	// default).
	TracerXRay = "xray"
	// TracerOTel is the OpenTelemetry SDK, OTLP over HTTP.
	TracerOTel = "otel"
)

// defaultOTLPEndpoint is the host agent's OTLP/HTTP receiver: single
// container jobs on EC2 share the host's network.
const defaultOTLPEndpoint = "http://127.0.0.1:4318"

// xrayOTLPHostRE is X-Ray's own OTLP endpoint, whose host names the region.
var xrayOTLPHostRE = regexp.MustCompile(`^xray\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// noTracer traces nothing: the job runs untraced when its tracer cannot
// be built, rather than not at all.
type noTracer struct{}

func (noTracer) Begin(ctx context.Context, _ string, _ *traceHeader) (context.Context, span) {
	return ctx, &xraySpan{}
}
func (noTracer) BeginChild(ctx context.Context, _ string) (context.Context, span) {
	return ctx, &xraySpan{}
}
func (noTracer) HTTPClient(base *http.Client) *http.Client {
	if base == nil {
		return http.DefaultClient
	}
	return base
}
func (noTracer) InstrumentAWS(*aws.Config) {}

// otlpEndpoint picks the OTLP/HTTP traces URL: Options.OTLPEndpoint (X-Ray
// directly, signed), else the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
// or OTEL_EXPORTER_OTLP_ENDPOINT (the agent, unsigned), else the host's
// agent. signed says whether requests need SigV4.
func otlpEndpoint(o Options) (endpoint string, signed bool, err error) {
	raw, name := o.OTLPEndpoint, "--otlp-endpoint"
	signed = raw != ""
	if raw == "" {
		if v, ok := lookupEnv(o.Environ, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); ok && v != "" {
			raw, name = v, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
		} else {
			base, ok := lookupEnv(o.Environ, "OTEL_EXPORTER_OTLP_ENDPOINT")
			name = "OTEL_EXPORTER_OTLP_ENDPOINT"
			if !ok || base == "" {
				base, name = defaultOTLPEndpoint, "the default OTLP endpoint"
			}
			// The standard: the base URL, with the signal's path added.
			raw = strings.TrimSuffix(base, "/") + "/v1/traces"
		}
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", false, fmt.Errorf("invalid %s %q: %v", name, raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", false, fmt.Errorf("invalid %s %q: want an http:// or https:// URL such as https://xray.us-east-1.amazonaws.com/v1/traces", name, raw)
	case u.Host == "" || u.Hostname() == "":
		return "", false, fmt.Errorf("invalid %s %q: no host", name, raw)
	case u.User != nil:
		return "", false, fmt.Errorf("invalid %s: credentials in the URL are not accepted", name)
	}
	return u.String(), signed, nil
}

// newOTelTracerFor builds the OpenTelemetry tracer o asks for. Signed
// requests use the job's AWS credentials and the region the endpoint's host
// names, else the configuration's.
func (r *runner) newOTelTracerFor(ctx context.Context) (*otelTracer, string, error) {
	endpoint, signed, err := otlpEndpoint(r.o)
	if err != nil {
		return nil, "", err
	}
	var transport http.RoundTripper
	if signed {
		if r.o.AWSConfig == nil {
			return nil, "", fmt.Errorf("sign for %s: no AWS configuration", endpoint)
		}
		cfg, err := r.o.AWSConfig(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("sign for %s: %w", endpoint, err)
		}
		u, _ := url.Parse(endpoint) // parsed above
		region := cfg.Region
		if m := xrayOTLPHostRE.FindStringSubmatch(u.Hostname()); m != nil {
			region = m[1]
		}
		if region == "" || cfg.Credentials == nil {
			return nil, "", fmt.Errorf("sign for %s: no region or credentials in the AWS configuration", endpoint)
		}
		transport = newSigV4Transport(http.DefaultTransport, cfg.Credentials, "xray", region)
	}
	t, err := newOTelTracer(endpoint, transport, signed, r.o.SampleRate, r.o.ServiceName, r.o.Version, r.logf)
	if err != nil {
		return nil, "", err
	}
	return t, endpoint, nil
}
