package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/xray"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/traceid"
)

// TestSubmitSegment sends the submit segment to the stand-in's X-Ray over
// real HTTP (Batch is the small fake: only the segment is under test here)
// and reads it back: the trace's root, SubmitJob its subsegment, and the
// job's header naming it as parent.
func TestSubmitSegment(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	xc := xray.NewFromConfig(cfg)
	f := &fakeSubmit{defs: []types.JobDefinition{def(1, "demo")}}
	spec := Spec{Stack: "demo", Region: "us-east-1", TagKey: "batchxray:stack", Queue: "demo-queue", Definition: "demo-job", Name: "s"}
	sub, err := Submit(context.Background(), f, spec, SubmitOptions{XRay: xc})
	if err != nil || sub.SegmentErr != nil {
		t.Fatalf("Submit: %v, segment: %v", err, sub.SegmentErr)
	}
	if !traceid.Valid(sub.TraceID) || time.Since(traceid.Time(sub.TraceID)) > time.Minute {
		t.Fatalf("trace ID %q: not a fresh X-Ray trace ID", sub.TraceID)
	}
	var header string
	for _, kv := range f.in.ContainerOverrides.Environment {
		if aws.ToString(kv.Name) == traceid.EnvVar {
			header = aws.ToString(kv.Value)
		}
	}
	h, err := traceid.Parse(header)
	if err != nil || h.Root != sub.TraceID || !h.Sampled {
		t.Fatalf("header %q: %v", header, err)
	}
	out, err := xc.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{sub.TraceID}})
	if err != nil || len(out.Traces) != 1 {
		t.Fatalf("BatchGetTraces: %v, %d traces", err, len(out.Traces))
	}
	var root *segment
	for _, s := range out.Traces[0].Segments {
		var d segment
		if err := json.Unmarshal([]byte(aws.ToString(s.Document)), &d); err != nil {
			t.Fatal(err)
		}
		if d.ID == h.Parent {
			root = &d
		}
	}
	if root == nil {
		t.Fatalf("no segment %s in %d documents", h.Parent, len(out.Traces[0].Segments))
	}
	diff(t, "root name", SubmitSegmentName, root.Name)
	diff(t, "job_id annotation", any("id-1"), root.Annotations["job_id"])
	if len(root.Subsegments) != 1 || root.Subsegments[0].AWS["operation"] != "SubmitJob" || root.Subsegments[0].Namespace != "aws" {
		t.Errorf("subsegments %+v, want one SubmitJob call", root.Subsegments)
	}
	if root.EndTime < root.Subsegments[0].EndTime || root.StartTime > root.Subsegments[0].StartTime {
		t.Errorf("segment %f-%f does not hold its call %f-%f", root.StartTime, root.EndTime, root.Subsegments[0].StartTime, root.Subsegments[0].EndTime)
	}
}

// TestSubmitWithoutPutTraceSegments: X-Ray refuses the segment; the job is
// submitted with its trace all the same and the error says what is missing.
func TestSubmitWithoutPutTraceSegments(t *testing.T) {
	srv, cfg := localawstest.Start(t, localaws.Options{})
	srv.InjectFault("xray", "PutTraceSegments", awsproto.Errorf(http.StatusForbidden, "AccessDeniedException",
		"User: arn:aws:iam::000000000000:user/dev is not authorized to perform: xray:PutTraceSegments"), -1)
	f := &fakeSubmit{defs: []types.JobDefinition{def(1, "demo")}}
	spec := Spec{Stack: "demo", Region: "us-east-1", TagKey: "batchxray:stack", Queue: "q", Definition: "demo-job", Name: "s"}
	sub, err := Submit(context.Background(), f, spec, SubmitOptions{XRay: xray.NewFromConfig(cfg)})
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	var se *SegmentError
	if !errors.As(sub.SegmentErr, &se) || !AccessDenied(se) {
		t.Fatalf("SegmentErr = %v, want an AccessDenied SegmentError", sub.SegmentErr)
	}
	if msg := se.Error(); !strings.Contains(msg, "lack xray:PutTraceSegments") || !strings.Contains(msg, sub.TraceID) {
		t.Errorf("message %q", msg)
	}
	if f.in == nil || f.in.Tags[TraceTagKey] != sub.TraceID {
		t.Errorf("job not submitted with its trace tag: %+v", f.in)
	}
}
