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
	awsproto.RESTJSON
	env awsproto.Env

	mu sync.RWMutex
	store
	rules       map[string]*rule // by name, the Default rule included
	ruleOrder   []string         // creation order, for stable listings
	tags        map[string]map[string]string
	lastRuleMod float64
	destination string

	daemon daemonSlot
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
	s.RESTJSON = awsproto.RESTJSON{
		Name:     "xray",
		Routes:   routes(),
		Throttle: awsproto.Errorf(http.StatusTooManyRequests, "ThrottledException", "Rate exceeded"),
	}
	s.Ops = map[string]func(*http.Request) (any, error){
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

// routes names each X-Ray operation by its REST path, as the SDK's
// serializers spell them; every one is a POST.
var routes = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"POST /TraceSegments":                 "PutTraceSegments",
		"POST /TraceSummaries":                "GetTraceSummaries",
		"POST /Traces":                        "BatchGetTraces",
		"POST /GetSamplingRules":              "GetSamplingRules",
		"POST /SamplingTargets":               "GetSamplingTargets",
		"POST /CreateSamplingRule":            "CreateSamplingRule",
		"POST /UpdateSamplingRule":            "UpdateSamplingRule",
		"POST /DeleteSamplingRule":            "DeleteSamplingRule",
		"POST /GetTraceSegmentDestination":    "GetTraceSegmentDestination",
		"POST /UpdateTraceSegmentDestination": "UpdateTraceSegmentDestination",
		"POST /TagResource":                   "TagResource",
		"POST /UntagResource":                 "UntagResource",
		"POST /ListTagsForResource":           "ListTagsForResource",
		"POST /CancelTraceRetrieval":          "CancelTraceRetrieval",
		"POST /CreateGroup":                   "CreateGroup",
		"POST /DeleteGroup":                   "DeleteGroup",
		"POST /DeleteResourcePolicy":          "DeleteResourcePolicy",
		"POST /EncryptionConfig":              "GetEncryptionConfig",
		"POST /GetGroup":                      "GetGroup",
		"POST /Groups":                        "GetGroups",
		"POST /GetIndexingRules":              "GetIndexingRules",
		"POST /Insight":                       "GetInsight",
		"POST /InsightEvents":                 "GetInsightEvents",
		"POST /InsightImpactGraph":            "GetInsightImpactGraph",
		"POST /InsightSummaries":              "GetInsightSummaries",
		"POST /GetRetrievedTracesGraph":       "GetRetrievedTracesGraph",
		"POST /SamplingStatisticSummaries":    "GetSamplingStatisticSummaries",
		"POST /ServiceGraph":                  "GetServiceGraph",
		"POST /TimeSeriesServiceStatistics":   "GetTimeSeriesServiceStatistics",
		"POST /TraceGraph":                    "GetTraceGraph",
		"POST /ListResourcePolicies":          "ListResourcePolicies",
		"POST /ListRetrievedTraces":           "ListRetrievedTraces",
		"POST /PutEncryptionConfig":           "PutEncryptionConfig",
		"POST /PutResourcePolicy":             "PutResourcePolicy",
		"POST /TelemetryRecords":              "PutTelemetryRecords",
		"POST /StartTraceRetrieval":           "StartTraceRetrieval",
		"POST /UpdateGroup":                   "UpdateGroup",
		"POST /UpdateIndexingRule":            "UpdateIndexingRule",
	}
})

func invalidRequest(format string, a ...any) *awsproto.Error {
	return awsproto.Errorf(http.StatusBadRequest, "InvalidRequestException", format, a...)
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
