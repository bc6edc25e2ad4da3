package traces

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"

	"github.com/batchxray/batchxray/internal/waiter"
)

// retrievalAPI is how a trace is got by ID when the account sends its
// spans to CloudWatch Logs (Transaction Search): BatchGetTraces sees only
// the indexed share of traces there.
type retrievalAPI interface {
	StartTraceRetrieval(ctx context.Context, in *xray.StartTraceRetrievalInput, opts ...func(*xray.Options)) (*xray.StartTraceRetrievalOutput, error)
	ListRetrievedTraces(ctx context.Context, in *xray.ListRetrievedTracesInput, opts ...func(*xray.Options)) (*xray.ListRetrievedTracesOutput, error)
}

// RetrievalSize is how many trace IDs one StartTraceRetrieval asks for.
// The API reference gives no maximum we could confirm; 5, as for
// BatchGetTraces, stays within whatever it is.
const RetrievalSize = 5

// MinRetrievalWait is the least time a retrieval is polled for, even with
// a Wait of 0 (look once): a retrieval takes seconds by its nature.
const MinRetrievalWait = 30 * time.Second

// RetrievalError is a retrieval that ended without its traces.
type RetrievalError struct {
	TraceIDs []string
	Status   types.RetrievalStatus
}

func (e *RetrievalError) Error() string {
	return fmt.Sprintf("retrieve traces %s from CloudWatch Logs: the retrieval ended %s", strings.Join(e.TraceIDs, ", "), e.Status)
}

// destination is where the account sends its segments. Without permission
// to ask (or an endpoint that does not answer), it is X-Ray, the default.
func (f *Finder) destination(ctx context.Context) types.TraceSegmentDestination {
	out, err := f.client.GetTraceSegmentDestination(ctx, &xray.GetTraceSegmentDestinationInput{})
	if err != nil {
		return types.TraceSegmentDestinationXRay
	}
	return out.Destination
}

// retrieveChunk gets up to RetrievalSize traces by ID from CloudWatch
// Logs: one retrieval, polled with backoff until COMPLETE, in the XRAY
// format, so that they parse as BatchGetTraces's do.
func (f *Finder) retrieveChunk(ctx context.Context, ids []string, start, end time.Time, wait time.Duration) ([]*Trace, error) {
	var started *xray.StartTraceRetrievalOutput
	err := f.retry(ctx, func() error {
		var err error
		started, err = f.client.StartTraceRetrieval(ctx, &xray.StartTraceRetrievalInput{
			TraceIds: ids, StartTime: aws.Time(start), EndTime: aws.Time(end),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("start trace retrieval %s: %w", strings.Join(ids, ", "), err)
	}
	in := &xray.ListRetrievedTracesInput{RetrievalToken: started.RetrievalToken, TraceFormat: types.TraceFormatTypeXray}
	docs := map[string][]string{}
	var order []string
	done := func(ctx context.Context) (bool, error) {
		var out *xray.ListRetrievedTracesOutput
		err := f.retry(ctx, func() error {
			var err error
			out, err = f.client.ListRetrievedTraces(ctx, in)
			return err
		})
		if err != nil {
			return false, fmt.Errorf("list retrieved traces %s: %w", strings.Join(ids, ", "), err)
		}
		switch out.RetrievalStatus {
		case types.RetrievalStatusComplete:
		case types.RetrievalStatusFailed, types.RetrievalStatusCancelled, types.RetrievalStatusTimeout:
			return false, &RetrievalError{TraceIDs: ids, Status: out.RetrievalStatus}
		default:
			return false, nil
		}
		for _, t := range out.Traces {
			id := aws.ToString(t.Id)
			if _, ok := docs[id]; !ok {
				order = append(order, id)
			}
			for _, s := range t.Spans {
				docs[id] = append(docs[id], aws.ToString(s.Document))
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return true, nil
		}
		in.NextToken = out.NextToken
		return false, nil
	}
	err = waiter.Wait(ctx, "retrieve traces "+strings.Join(ids, ", "), waiter.Options{
		MinDelay: f.MinDelay, MaxDelay: f.MaxDelay, MaxWait: max(wait, MinRetrievalWait), Clock: f.clock, Sleep: f.sleep,
	}, done)
	if err != nil {
		return nil, err
	}
	return parseAll(order, docs)
}
