package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/smithy-go"

	"github.com/batchxray/batchxray/internal/traceid"
)

// TraceTagKey is the tag on a job whose value is the job's X-Ray trace ID,
// decided by Submit. `trace` fetches the trace by it.
const TraceTagKey = "batchxray:trace-id"

// SubmitSegmentName names the root segment Submit records.
const SubmitSegmentName = "batchxray submit"

// PutTraceSegmentsAPI is the X-Ray call Submit sends its segment with;
// *xray.Client has it.
type PutTraceSegmentsAPI interface {
	PutTraceSegments(context.Context, *xray.PutTraceSegmentsInput, ...func(*xray.Options)) (*xray.PutTraceSegmentsOutput, error)
}

var _ PutTraceSegmentsAPI = (*xray.Client)(nil)

// SubmitOptions shape how Submit traces the submission.
type SubmitOptions struct {
	// XRay sends the `batchxray submit` segment; nil sends none (the job
	// still carries its trace ID and header).
	XRay PutTraceSegmentsAPI
	// Now is the clock for the trace ID's epoch and the segment's times;
	// nil is time.Now.
	Now func() time.Time
	// Rand is where the IDs' random bits come from; nil is crypto/rand.
	Rand io.Reader
}

// context is a job's trace context, decided before SubmitJob.
type traceContext struct {
	traceID, segmentID, subsegmentID string
	start                            time.Time
}

func newTraceContext(o SubmitOptions) (traceContext, error) {
	now := o.now()
	id, err := traceid.New(now, o.Rand)
	if err != nil {
		return traceContext{}, err
	}
	seg, err := traceid.NewSegmentID(o.Rand)
	if err != nil {
		return traceContext{}, err
	}
	sub, err := traceid.NewSegmentID(o.Rand)
	if err != nil {
		return traceContext{}, err
	}
	return traceContext{traceID: id, segmentID: seg, subsegmentID: sub, start: now}, nil
}

func (o SubmitOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// header is what the job's container joins: the submit segment as parent,
// sampled, so every job is traced.
func (tc traceContext) header() string {
	return traceid.Header{Root: tc.traceID, Parent: tc.segmentID, Sampled: true}.String()
}

// segment is the submit segment document, with SubmitJob as its one
// subsegment (namespace aws, as the SDK instrumentors record AWS calls).
type segment struct {
	Name        string         `json:"name"`
	ID          string         `json:"id"`
	TraceID     string         `json:"trace_id"`
	StartTime   float64        `json:"start_time"`
	EndTime     float64        `json:"end_time"`
	Error       bool           `json:"error,omitempty"`
	Namespace   string         `json:"namespace,omitempty"`
	AWS         map[string]any `json:"aws,omitempty"`
	Annotations map[string]any `json:"annotations,omitempty"`
	Subsegments []segment      `json:"subsegments,omitempty"`
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// sendSegment records the submission as the trace's root. callStart and
// callEnd bound the SubmitJob call.
func (tc traceContext) sendSegment(ctx context.Context, c PutTraceSegmentsAPI, region string, sub Submission, in *batch.SubmitJobInput, callStart, callEnd time.Time) error {
	ann := map[string]any{"job_id": sub.ID, "job_name": sub.Name}
	if in.ArrayProperties != nil {
		ann["array_size"] = aws.ToInt32(in.ArrayProperties.Size)
	}
	doc := segment{
		Name: SubmitSegmentName, ID: tc.segmentID, TraceID: tc.traceID,
		StartTime: epoch(tc.start), EndTime: epoch(callEnd), Annotations: ann,
		Subsegments: []segment{{
			Name: "Batch", ID: tc.subsegmentID, StartTime: epoch(callStart), EndTime: epoch(callEnd),
			Namespace: "aws",
			AWS:       map[string]any{"operation": "SubmitJob", "region": region, "job_queue": aws.ToString(in.JobQueue)},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	out, err := c.PutTraceSegments(ctx, &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{string(b)}})
	if err != nil {
		return err
	}
	if len(out.UnprocessedTraceSegments) > 0 {
		u := out.UnprocessedTraceSegments[0]
		return fmt.Errorf("X-Ray refused the segment: %s %s", aws.ToString(u.ErrorCode), aws.ToString(u.Message))
	}
	return nil
}

// SegmentError is why Submit could not record its segment. The job was
// submitted and carries its trace all the same: its own segments make the
// trace, without the submit root.
type SegmentError struct {
	TraceID string
	Err     error
}

func (e *SegmentError) Error() string {
	if AccessDenied(e.Err) {
		return fmt.Sprintf("no submit segment in trace %s: the credentials lack xray:PutTraceSegments (the job's own segments are still recorded)", e.TraceID)
	}
	return fmt.Sprintf("no submit segment in trace %s: put trace segments: %v (the job's own segments are still recorded)", e.TraceID, e.Err)
}

func (e *SegmentError) Unwrap() error { return e.Err }

// AccessDenied reports whether AWS refused a call for a missing permission.
func AccessDenied(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException":
		return true
	}
	return false
}
