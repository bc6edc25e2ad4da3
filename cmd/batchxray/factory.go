package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/batchxray/batchxray/internal/sdkhttp"
	"github.com/batchxray/batchxray/internal/ui"
)

// factory holds the lazily built dependencies every command shares. Keep it
// small: if it grows past about ten fields the design is drifting.
type factory struct {
	IOStreams *ui.IOStreams
	// Now is the clock; tests replace it.
	Now func() time.Time
	// AWSConfig loads the AWS configuration once, from the standard chain
	// and the global flags.
	AWSConfig func(ctx context.Context) (aws.Config, error)
	// Globals are the values of the global flags, filled in by cobra.
	Globals *globalOptions
	// Logger is the --debug logger; it discards everything otherwise.
	Logger func() *slog.Logger

	// reachedRun is set once cobra has parsed and validated the command
	// line, so execute can tell usage errors from run errors.
	reachedRun bool
}

// globalOptions are the flags every command takes.
type globalOptions struct {
	Stack   string
	Region  string
	Profile string
	Output  string
	NoColor bool
	Debug   bool
}

// JSON reports whether --output json was asked for.
func (g *globalOptions) JSON() bool { return g.Output == outputJSON }

const (
	outputText = "text"
	outputJSON = "json"
)

func newFactory() *factory {
	f := &factory{
		IOStreams: ui.System(),
		Now:       time.Now,
		Globals:   &globalOptions{},
	}
	f.Logger = sync.OnceValue(func() *slog.Logger {
		if !f.Globals.Debug {
			return slog.New(slog.DiscardHandler)
		}
		return slog.New(slog.NewTextHandler(f.IOStreams.ErrOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f.AWSConfig = onceCtx(func(ctx context.Context) (aws.Config, error) {
		return loadAWSConfig(ctx, f.Globals, f.Logger())
	})
	return f
}

// onceCtx memoises a context-taking loader: the first call's result is kept.
func onceCtx[T any](load func(context.Context) (T, error)) func(context.Context) (T, error) {
	var (
		mu   sync.Mutex
		done bool
		v    T
		err  error
	)
	return func(ctx context.Context) (T, error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			v, err = load(ctx)
			// A cancelled load is not cached: the next call tries again.
			done = !errors.Is(err, context.Canceled)
		}
		return v, err
	}
}

// errNoRegion and errNoCredentials end with what the user must do next.
var (
	errNoRegion      = errors.New("no AWS region is set: pass --region or set AWS_REGION (for the local stand-in: AWS_REGION=us-east-1)")
	errNoCredentials = errors.New("no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` (for the local stand-in any non-empty values work)")
)

// loadAWSConfig loads the standard chain. AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> are honoured by the SDK itself. Credentials are
// resolved here, once, so a missing set fails early with one line instead of
// deep inside the first call.
func loadAWSConfig(ctx context.Context, g *globalOptions, log *slog.Logger) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{config.WithRetryer(provisioningRetryer(nil))}
	if g.Region != "" {
		opts = append(opts, config.WithRegion(g.Region))
	}
	if g.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(g.Profile))
	}
	if g.Debug {
		opts = append(opts,
			config.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
				log.Debug(fmt.Sprintf(format, v...), "sdk", string(c))
			})),
			config.WithClientLogMode(aws.LogRetries|aws.LogRequest|aws.LogResponse),
		)
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return aws.Config{}, fmt.Errorf("AWS profile %q does not exist: check --profile or AWS_PROFILE", pe.Profile)
		}
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	sdkhttp.Install(&cfg)
	if cfg.Region == "" {
		return aws.Config{}, errNoRegion
	}
	if cfg.Credentials == nil {
		return aws.Config{}, errNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return aws.Config{}, ctx.Err()
		}
		log.Debug("credential chain failed", "err", err)
		return aws.Config{}, errNoCredentials
	}
	if _, ok := os.LookupEnv("AWS_ENDPOINT_URL"); ok {
		log.Debug("using AWS_ENDPOINT_URL", "url", os.Getenv("AWS_ENDPOINT_URL"))
	}
	return cfg, nil
}

// The retry budget, fit for provisioning. up and down make about a hundred calls, many
// at once, and a throttled account answers several of them in a row with
// throttling errors: the SDK's default of 3 attempts failed one up in three
// at 30% throttling. Ten attempts with backoff up to 20 s ride that out,
// and with no retry quota a long throttled run does not use up its tokens
// halfway through a stack.
const (
	provisionMaxAttempts = 10
	provisionMaxBackoff  = 20 * time.Second
)

// provisioningRetryer is the SDK's standard retryer with provisioning's
// budget, every command's; backoff, when set, replaces its exponential
// jitter (tests).
func provisioningRetryer(backoff retry.BackoffDelayer) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = provisionMaxAttempts
			o.MaxBackoff = provisionMaxBackoff
			o.RateLimiter = ratelimit.None
			if backoff != nil {
				o.Backoff = backoff
			}
		})
	}
}
