package xray

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"net/http"
	"time"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

// The trace segment destinations, as UpdateTraceSegmentDestination spells
// them.
const (
	DestinationXRay           = "XRay"
	DestinationCloudWatchLogs = "CloudWatchLogs"
)

// defaultIndexingPercentage is the Default indexing rule's share of traces
// when Transaction Search is turned on.
const defaultIndexingPercentage = 1.0

// destinationState is the account's trace segment destination: the one in
// effect, and the one asked for, which takes effect (PENDING → ACTIVE) at
// activeAt.
type destinationState struct {
	current, pending string
	activeAt         time.Time
}

// indexingRule is the Default indexing rule, the only one X-Ray has.
type indexingRule struct {
	percentage float64
	modified   time.Time
}

func (s *Service) initDestination() {
	d := s.cfg.Destination
	if d == "" {
		d = DestinationXRay
	}
	s.dest = destinationState{current: d}
	p := s.cfg.IndexingPercentage
	switch {
	case p == 0:
		p = defaultIndexingPercentage
	case p < 0:
		p = 0
	}
	s.indexing = indexingRule{percentage: p, modified: s.env.Clock.Now()}
}

// destination is the destination in effect now, a pending one made active
// once its time has come. The caller holds s.mu for writing.
func (s *Service) destination() string {
	if s.dest.pending != "" && !s.env.Clock.Now().Before(s.dest.activeAt) {
		s.dest.current, s.dest.pending = s.dest.pending, ""
	}
	return s.dest.current
}

// transactionSearch says whether segments go to CloudWatch Logs now. The
// caller holds s.mu for writing.
func (s *Service) transactionSearch() bool { return s.destination() == DestinationCloudWatchLogs }

// indexes decides once, when a trace's first document arrives, whether the
// trace gets a summary: always in X-Ray mode, else with the Default
// indexing rule's probability, from a hash of the seed and the trace ID so
// that a test knows the outcome. The caller holds s.mu for writing.
func (s *Service) indexes(traceID string) bool {
	if !s.transactionSearch() {
		return true
	}
	h := fnv.New64a()
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], s.cfg.IndexingSeed)
	_, _ = h.Write(seed[:])
	_, _ = h.Write([]byte(traceID))
	return float64(h.Sum64())/math.MaxUint64*100 < s.indexing.percentage
}

type destinationOut struct {
	Destination string
	Status      string
}

func (s *Service) destinationOut() destinationOut {
	if s.destination(); s.dest.pending != "" {
		return destinationOut{s.dest.pending, "PENDING"}
	}
	return destinationOut{s.dest.current, "ACTIVE"}
}

func (s *Service) getTraceSegmentDestination(*http.Request) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.destinationOut(), nil
}

func (s *Service) updateTraceSegmentDestination(r *http.Request) (any, error) {
	var in struct{ Destination string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Destination != DestinationXRay && in.Destination != DestinationCloudWatchLogs {
		return nil, invalidRequest("Destination %q is not XRay or CloudWatchLogs", in.Destination)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.Destination == s.destination() && s.dest.pending == "" {
		return s.destinationOut(), nil
	}
	s.dest.pending = in.Destination
	s.dest.activeAt = s.env.Clock.Now().Add(s.cfg.DestinationDelay)
	// The change is answered PENDING even when it takes effect at once: the
	// caller polls GetTraceSegmentDestination for ACTIVE.
	return destinationOut{in.Destination, "PENDING"}, nil
}

type probabilisticRule struct {
	DesiredSamplingPercentage *float64
	ActualSamplingPercentage  *float64 `json:",omitempty"`
}

type indexingRuleOut struct {
	Name       string
	ModifiedAt float64
	Rule       struct{ Probabilistic probabilisticRule }
}

func (s *Service) indexingRuleOut() indexingRuleOut {
	out := indexingRuleOut{Name: "Default", ModifiedAt: secs(s.indexing.modified)}
	p := s.indexing.percentage
	out.Rule.Probabilistic = probabilisticRule{DesiredSamplingPercentage: &p, ActualSamplingPercentage: &p}
	return out
}

func (s *Service) getIndexingRules(r *http.Request) (any, error) {
	var in struct{ NextToken *string }
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.NextToken != nil && *in.NextToken != "" {
		return nil, invalidRequest("NextToken %q is not a token this operation returned", *in.NextToken)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return struct{ IndexingRules []indexingRuleOut }{[]indexingRuleOut{s.indexingRuleOut()}}, nil
}

func (s *Service) updateIndexingRule(r *http.Request) (any, error) {
	var in struct {
		Name *string
		Rule *struct {
			Probabilistic *probabilisticRule
		}
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	switch {
	case in.Name == nil:
		return nil, invalidRequest("Name is required")
	case in.Rule == nil || in.Rule.Probabilistic == nil || in.Rule.Probabilistic.DesiredSamplingPercentage == nil:
		return nil, invalidRequest("Rule.Probabilistic.DesiredSamplingPercentage is required")
	case *in.Name != "Default":
		return nil, awsproto.Errorf(http.StatusNotFound, "ResourceNotFoundException", "Indexing rule %s not found", *in.Name)
	}
	p := *in.Rule.Probabilistic.DesiredSamplingPercentage
	if p < 0 || p > 100 || math.IsNaN(p) {
		return nil, invalidRequest("DesiredSamplingPercentage %v is not a percentage from 0 to 100", p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.indexing = indexingRule{percentage: p, modified: s.env.Clock.Now()}
	return struct{ IndexingRule indexingRuleOut }{s.indexingRuleOut()}, nil
}
