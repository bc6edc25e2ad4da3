package xray

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// Config are the stand-in X-Ray's own settings. The zero value is an
// account in X-Ray mode that indexes every trace at once.
type Config struct {
	// IndexDelay is how long after its documents arrive a trace stays
	// invisible to GetTraceSummaries and BatchGetTraces, as X-Ray indexes
	// traces seconds after they are sent.
	IndexDelay time.Duration
	// Destination is where segments go from the start: "XRay" (the
	// default, also "") or "CloudWatchLogs" (Transaction Search on, ACTIVE).
	Destination string
	// DestinationDelay is how long UpdateTraceSegmentDestination leaves
	// the new destination PENDING before it is ACTIVE and in effect.
	DestinationDelay time.Duration
	// IndexingPercentage is the Default indexing rule's
	// DesiredSamplingPercentage (up to 100); 0 means AWS's default, 1, and
	// a negative value 0 (nothing indexed).
	IndexingPercentage float64
	// IndexingSeed seeds the per-trace indexing decision, so a test knows
	// which traces a percentage indexes.
	IndexingSeed uint64
	// RetrievalDelay is how long a StartTraceRetrieval runs: SCHEDULED
	// for its first tenth, RUNNING for the rest, then COMPLETE.
	RetrievalDelay time.Duration
	// Spans, when set, receives the spans written to the aws/spans log
	// group in CloudWatch Logs mode (the stand-in's CloudWatch Logs).
	Spans SpanWriter
}

// SpanWriter appends one event to a log stream, creating the group and the
// stream when missing: the part of CloudWatch Logs that Transaction Search
// writes spans with.
type SpanWriter interface {
	Write(group, stream string, at time.Time, message string)
}

// Service is the stand-in's X-Ray.
type Service struct {
	awsproto.RESTJSON
	env awsproto.Env
	cfg Config

	mu sync.RWMutex
	store
	rules       map[string]*rule // by name, the Default rule included
	ruleOrder   []string         // creation order, for stable listings
	tags        map[string]map[string]string
	lastRuleMod float64
	dest        destinationState
	indexing    indexingRule
	retrievals  map[string]*retrieval

	daemon daemonSlot
}

// New returns an X-Ray with no traces, the Default sampling rule and the
// Default indexing rule.
func New(env awsproto.Env, cfg Config) *Service {
	s := &Service{
		env:        env,
		cfg:        cfg,
		store:      newStore(),
		rules:      map[string]*rule{},
		tags:       map[string]map[string]string{},
		retrievals: map[string]*retrieval{},
	}
	s.initDestination()
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
		"GetIndexingRules":              s.getIndexingRules,
		"UpdateIndexingRule":            s.updateIndexingRule,
		"StartTraceRetrieval":           s.startTraceRetrieval,
		"ListRetrievedTraces":           s.listRetrievedTraces,
		"CancelTraceRetrieval":          s.cancelTraceRetrieval,
		"GetRetrievedTracesGraph":       s.getRetrievedTracesGraph,
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
