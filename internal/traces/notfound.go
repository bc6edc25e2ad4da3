package traces

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"

	"github.com/batchxray/batchxray/internal/jobs"
)

// Reason is why no trace was found.
type Reason string

// The reasons Find tells apart.
const (
	// ReasonNeverStarted: the job never ran, so nothing was traced.
	ReasonNeverStarted Reason = "never-started"
	// ReasonRunning: the job still runs; its segment is sent when it ends.
	ReasonRunning Reason = "running"
	// ReasonIndexing: the job stopped moments ago; X-Ray indexes traces
	// seconds after the daemon flushes them, sometimes longer.
	ReasonIndexing Reason = "indexing"
	// ReasonTransactionSearch: the account sends traces to CloudWatch Logs
	// (Transaction Search), where only a sample is indexed as summaries.
	ReasonTransactionSearch Reason = "transaction-search"
	// ReasonUntraced: the job ran and stopped long enough ago, and no trace
	// arrived: it was not sampled, or its daemon was unreachable or not
	// installed.
	ReasonUntraced Reason = "untraced"
)

// NotFoundError is an empty result with its explanation. NotFound reports
// true, so the command exits 4.
type NotFoundError struct {
	JobID  string
	Reason Reason
	// Status is the job's status when the search ended.
	Status jobs.State
	// Indexed is, with ReasonTransactionSearch, the percentage of traces
	// the account's Default indexing rule indexes; nil when unknown.
	Indexed *float64
}

// NotFound marks the error for the exit code.
func (e *NotFoundError) NotFound() bool { return true }

// Error says that nothing was found and why, in one line.
func (e *NotFoundError) Error() string {
	switch e.Reason {
	case ReasonNeverStarted:
		return fmt.Sprintf("no trace for job %s: the job never started (it is %s)", e.JobID, e.Status)
	case ReasonRunning:
		return fmt.Sprintf("no trace for job %s yet: it is still %s, and its segment is sent when it ends", e.JobID, e.Status)
	case ReasonIndexing:
		return fmt.Sprintf("no trace for job %s yet: X-Ray has not indexed it", e.JobID)
	case ReasonTransactionSearch:
		if e.Indexed != nil {
			p := *e.Indexed
			return fmt.Sprintf("no trace for job %s: it carries no trace ID, and this account sends traces to CloudWatch Logs (Transaction Search), which indexes %s%% of traces for search: about %s in 100 such jobs cannot be found",
				e.JobID, strconv.FormatFloat(p, 'f', -1, 64), strconv.FormatFloat(max(100-p, 0), 'f', -1, 64))
		}
		return fmt.Sprintf("no trace for job %s: it carries no trace ID, and this account sends traces to CloudWatch Logs (Transaction Search), where only a sample is indexed for search", e.JobID)
	}
	return fmt.Sprintf("no trace for job %s: the job ran but sent no trace", e.JobID)
}

// Hint is the one line that says what to do next.
func (e *NotFoundError) Hint() string {
	switch e.Reason {
	case ReasonNeverStarted:
		return "a RUNNABLE job waits for capacity in its compute environment; follow it with: batchxray status " + e.JobID
	case ReasonRunning:
		return "wait for the job to end with: batchxray status " + e.JobID + ", then run trace again"
	case ReasonIndexing:
		return "try again in a minute, or wait longer with --wait 2m"
	case ReasonTransactionSearch:
		return "submit with batchxray submit, so that trace gets the job by ID; or find it in the CloudWatch console under Transaction Search, or raise the Default indexing rule's percentage"
	}
	return "check that the X-Ray daemon runs on the host (systemctl status xray) and that the job's sampling rule covers it"
}

// WithHint is the error with its Hint on a second line, so the user reads
// why there is no trace and then what to do next. It still unwraps to e.
func (e *NotFoundError) WithHint() error { return hintedError{e} }

type hintedError struct{ *NotFoundError }

func (e hintedError) Error() string { return e.NotFoundError.Error() + "\n" + e.Hint() }
func (e hintedError) Unwrap() error { return e.NotFoundError }

// explain says why nothing was found for a job that started; byID is
// true when its traces were asked for by ID, which no indexing limits.
func (f *Finder) explain(ctx context.Context, j jobs.Job, byID bool) error {
	e := &NotFoundError{JobID: j.ID, Status: j.Status, Reason: ReasonUntraced}
	if !byID {
		out, err := f.client.GetTraceSegmentDestination(ctx, &xray.GetTraceSegmentDestinationInput{})
		// The destination is a hint only: without permission to read it
		// (or on a stand-in without it) the other explanations still hold.
		if err == nil && out.Destination == types.TraceSegmentDestinationCloudWatchLogs {
			e.Reason = ReasonTransactionSearch
			e.Indexed = f.indexed(ctx)
			return e
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case !j.Status.Terminal():
		e.Reason = ReasonRunning
	case f.clock.Since(j.End(f.clock.Now())) < f.IndexingGrace:
		e.Reason = ReasonIndexing
	}
	return e
}

// ArrayIndex is the array_index annotation of a trace's first segment that
// has one, as the job in the container writes it; false if none has.
func ArrayIndex(t *Trace) (int, bool) {
	for _, r := range t.Roots {
		switch v := r.Annotations["array_index"].(type) {
		case float64:
			return int(v), true
		case string:
			var i int
			if _, err := fmt.Sscan(v, &i); err == nil {
				return i, true
			}
		}
	}
	return 0, false
}

// ConsoleURL is the address of a trace in the CloudWatch console.
func ConsoleURL(region, traceID string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#xray:traces/%s", region, region, traceID)
}

// indexed is the Default indexing rule's percentage, nil when it cannot be
// read.
func (f *Finder) indexed(ctx context.Context) *float64 {
	out, err := f.client.GetIndexingRules(ctx, &xray.GetIndexingRulesInput{})
	if err != nil {
		return nil
	}
	for _, r := range out.IndexingRules {
		p, ok := r.Rule.(*types.IndexingRuleValueMemberProbabilistic)
		if aws.ToString(r.Name) == "Default" && ok && p.Value.DesiredSamplingPercentage != nil {
			return p.Value.DesiredSamplingPercentage
		}
	}
	return nil
}

// JobNotFoundError is a job ID Batch does not know in the region asked. It
// unwraps to the *jobs.NotFoundError it was made from.
type JobNotFoundError struct {
	ID, Region string
	err        *jobs.NotFoundError
}

func (e *JobNotFoundError) Error() string {
	return fmt.Sprintf("job %q not found in %s: Batch keeps finished jobs for about 7 days; check the ID and --region", e.ID, e.Region)
}

// NotFound marks the error for exit code 4.
func (e *JobNotFoundError) NotFound() bool { return true }

func (e *JobNotFoundError) Unwrap() error { return e.err }

// Explain is a Lookup error as the user reads it in region: a job Batch
// does not know becomes a *JobNotFoundError, and a *NotFoundError gets its
// hint on a second line. Other errors are returned as they are.
func Explain(err error, region string) error {
	if jnf, ok := errors.AsType[*jobs.NotFoundError](err); ok && len(jnf.IDs) > 0 {
		return &JobNotFoundError{ID: jnf.IDs[0], Region: region, err: jnf}
	}
	if tnf, ok := errors.AsType[*NotFoundError](err); ok {
		return tnf.WithHint()
	}
	return err
}
