package xray

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Service is the stand-in's X-Ray.
type Service struct {
	env awsproto.Env

	mu sync.RWMutex
	store
	rules       map[string]*rule // by name, the Default rule included
	ruleOrder   []string         // creation order, for stable listings
	tags        map[string]map[string]string
	lastRuleMod float64
	destination string

	daemon daemonSlot

	handlers map[string]func(*http.Request) (any, error)
}

// New returns an X-Ray with no traces and the Default sampling rule.
func New(env awsproto.Env) *Service {
	s := &Service{
		env:         env,
		store:       newStore(),
		rules:       map[string]*rule{},
		tags:        map[string]map[string]string{},
		destination: "XRay",
	}
	s.addDefaultRule()
	s.handlers = map[string]func(*http.Request) (any, error){
		"PutTraceSegments":              s.putTraceSegments,
		"GetTraceSummaries":             s.getTraceSummaries,
		"BatchGetTraces":                s.batchGetTraces,
		"GetSamplingRules":              s.getSamplingRules,
		"GetSamplingTargets":            s.getSamplingTargets,
		"CreateSamplingRule":            s.createSamplingRule,
		"UpdateSamplingRule":            s.updateSamplingRule,
		"DeleteSamplingRule":            s.deleteSamplingRule,
		"GetTraceSegmentDestination":    s.getTraceSegmentDestination,
		"UpdateTraceSegmentDestination": s.updateTraceSegmentDestination,
		"TagResource":                   s.tagResource,
		"UntagResource":                 s.untagResource,
		"ListTagsForResource":           s.listTagsForResource,
	}
	return s
}

// operations maps each REST path to its operation, as the SDK's serializers
// spell them.
var operations = map[string]string{
	"/TraceSegments":                 "PutTraceSegments",
	"/TraceSummaries":                "GetTraceSummaries",
	"/Traces":                        "BatchGetTraces",
	"/GetSamplingRules":              "GetSamplingRules",
	"/SamplingTargets":               "GetSamplingTargets",
	"/CreateSamplingRule":            "CreateSamplingRule",
	"/UpdateSamplingRule":            "UpdateSamplingRule",
	"/DeleteSamplingRule":            "DeleteSamplingRule",
	"/GetTraceSegmentDestination":    "GetTraceSegmentDestination",
	"/UpdateTraceSegmentDestination": "UpdateTraceSegmentDestination",
	"/TagResource":                   "TagResource",
	"/UntagResource":                 "UntagResource",
	"/ListTagsForResource":           "ListTagsForResource",
	"/CancelTraceRetrieval":          "CancelTraceRetrieval",
	"/CreateGroup":                   "CreateGroup",
	"/DeleteGroup":                   "DeleteGroup",
	"/DeleteResourcePolicy":          "DeleteResourcePolicy",
	"/EncryptionConfig":              "GetEncryptionConfig",
	"/GetGroup":                      "GetGroup",
	"/Groups":                        "GetGroups",
	"/GetIndexingRules":              "GetIndexingRules",
	"/Insight":                       "GetInsight",
	"/InsightEvents":                 "GetInsightEvents",
	"/InsightImpactGraph":            "GetInsightImpactGraph",
	"/InsightSummaries":              "GetInsightSummaries",
	"/GetRetrievedTracesGraph":       "GetRetrievedTracesGraph",
	"/SamplingStatisticSummaries":    "GetSamplingStatisticSummaries",
	"/ServiceGraph":                  "GetServiceGraph",
	"/TimeSeriesServiceStatistics":   "GetTimeSeriesServiceStatistics",
	"/TraceGraph":                    "GetTraceGraph",
	"/ListResourcePolicies":          "ListResourcePolicies",
	"/ListRetrievedTraces":           "ListRetrievedTraces",
	"/PutEncryptionConfig":           "PutEncryptionConfig",
	"/PutResourcePolicy":             "PutResourcePolicy",
	"/TelemetryRecords":              "PutTelemetryRecords",
	"/StartTraceRetrieval":           "StartTraceRetrieval",
	"/UpdateGroup":                   "UpdateGroup",
	"/UpdateIndexingRule":            "UpdateIndexingRule",
}

// Operation names the operation by the request's path.
func (s *Service) Operation(r *http.Request, _ []byte) string {
	return operations[r.URL.Path]
}

// WriteError writes a REST-JSON error, as X-Ray sends it.
func (s *Service) WriteError(w http.ResponseWriter, _ *http.Request, e *awsproto.Error) {
	awsproto.WriteRESTJSONError(w, e)
}

// ThrottleError is X-Ray's throttling error.
func (s *Service) ThrottleError() *awsproto.Error {
	return awsproto.Errorf(http.StatusTooManyRequests, "ThrottledException", "Rate exceeded")
}

func invalidRequest(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidRequestException", format, a...)
}

// ServeHTTP answers one X-Ray API call; the operation is the request's path.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := operations[r.URL.Path]
	if r.Method != http.MethodPost || op == "" {
		s.WriteError(w, r, awsproto.Errorf(http.StatusNotFound, "UnknownOperationException",
			"batchxray local's X-Ray has no operation at %s %s", r.Method, r.URL.Path))
		return
	}
	h, ok := s.handlers[op]
	if !ok {
		s.WriteError(w, r, awsproto.NotImplemented("xray", op))
		return
	}
	out, err := h(r)
	if err != nil {
		s.WriteError(w, r, awsproto.AsError(err))
		return
	}
	awsproto.WriteRESTJSON(w, out)
}

// decode reads a request body into v; an unreadable body is the caller's
// fault, as AWS answers a malformed request.
func decode(r *http.Request, v any) error {
	// Operations without input (GetTraceSegmentDestination) may come with
	// no body at all.
	if err := json.NewDecoder(r.Body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return awsproto.Errorf(http.StatusBadRequest, "SerializationException", "read request body: %v", err)
	}
	return nil
}
