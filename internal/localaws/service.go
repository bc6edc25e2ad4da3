package localaws

import (
	"net/http"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is one AWS service of the stand-in.
type Service interface {
	http.Handler
	// Operation names the API operation a request calls, as AWS spells it
	// (CreateRole, PutObject), or "" when it cannot tell. The body is
	// already buffered; the request's Body reads it again.
	Operation(r *http.Request, body []byte) string
	// WriteError writes an error in the service's own protocol.
	WriteError(w http.ResponseWriter, r *http.Request, e *awsproto.Error)
	// ThrottleError is the service's own throttling error, with its status.
	ThrottleError() *awsproto.Error
}
