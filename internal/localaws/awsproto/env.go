package awsproto

import (
	"log/slog"
	"regexp"
	"sync"

	"github.com/jonboulle/clockwork"
)

// Env is what every service knows of the stand-in it runs in.
type Env struct {
	Account string
	Region  string
	Clock   clockwork.Clock
	Logger  *slog.Logger
}

// ARN builds an ARN in the stand-in's partition, region and account. Global
// services (IAM) pass region "".
func (e Env) ARN(service, region, resource string) string {
	return "arn:aws:" + service + ":" + region + ":" + e.Account + ":" + resource
}

// Pattern returns a regular expression compiled on first use, so that no
// service pays for its patterns when batchxray starts (every command links
// the stand-in).
func Pattern(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
