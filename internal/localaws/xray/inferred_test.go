package xray_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
)

// recorded is the AWS CLI documentation's recorded batch-get-traces output:
// a Java SDK segment with a DynamoDB UpdateItem subsegment, and the
// DynamoDB segment X-Ray inferred from it.
func recorded(t *testing.T) (traceID, javaSegment, inferredSegment string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "aws-cli-batch-get-traces.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Traces []struct {
			Id       string
			Segments []struct{ Id, Document string }
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	tr := out.Traces[0]
	return tr.Id, tr.Segments[0].Document, tr.Segments[1].Document
}

// fields decodes a document, without its id.
func fields(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatalf("document %s: %v", doc, err)
	}
	delete(m, "id")
	return m
}

func getTrace(t *testing.T, c *xray.Client, id string) []string {
	t.Helper()
	out, err := c.BatchGetTraces(context.Background(), &xray.BatchGetTracesInput{TraceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Traces) != 1 {
		t.Fatalf("BatchGetTraces %s: %d traces (unprocessed %v), want 1", id, len(out.Traces), out.UnprocessedTraceIds)
	}
	var docs []string
	for _, s := range out.Traces[0].Segments {
		docs = append(docs, aws.ToString(s.Document))
	}
	return docs
}

func TestInferredSegmentAsAWSRecordedIt(t *testing.T) {
	_, c := start(t, localaws.Options{})
	id, java, want := recorded(t)
	if un := put(t, c, java); len(un) != 0 {
		t.Fatalf("the Java SDK's segment was refused: %+v", un)
	}
	docs := getTrace(t, c, id)
	if len(docs) != 2 {
		t.Fatalf("BatchGetTraces returned %d documents, want the segment and the inferred one:\n%v", len(docs), docs)
	}
	if diff := cmp.Diff(fields(t, java), fields(t, docs[0])); diff != "" {
		t.Errorf("the Java segment came back changed (-sent +got):\n%s", diff)
	}
	if diff := cmp.Diff(fields(t, want), fields(t, docs[1])); diff != "" {
		t.Errorf("inferred segment (-recorded by AWS +stand-in):\n%s", diff)
	}
	// The same document on every read.
	if again := getTrace(t, c, id); again[1] != docs[1] {
		t.Errorf("a second read returned another inferred document:\n%s\n%s", docs[1], again[1])
	}
}

// TestSegmentsFromOtherSDKs feeds segments shaped as the Python and Node.js
// X-Ray SDKs send them (their aws.xray.sdk, service, origin, cause and
// remote-call fields): they are stored, found, and get inferred segments.
func TestSegmentsFromOtherSDKs(t *testing.T) {
	_, c := start(t, localaws.Options{})
	python := traceID(1, 1)
	node := traceID(2, 2)
	docs := []string{
		doc(python, "1000000000000001", "py-worker", base+1, base+2, map[string]any{
			"in_progress": false,
			"aws":         map[string]any{"xray": map[string]any{"sdk": "X-Ray for Python", "sdk_version": "2.14.0"}},
			"service":     map[string]any{"runtime": "CPython", "runtime_version": "3.12.1"},
			"annotations": map[string]any{"job_id": "py-1"},
			"metadata":    map[string]any{"default": map[string]any{"rows": []any{1, 2}}},
			"subsegments": []any{map[string]any{
				"id": "1000000000000002", "name": "s3", "namespace": "aws", "start_time": base + 1.1, "end_time": base + 1.5,
				"aws":  map[string]any{"operation": "PutObject", "region": "us-east-1", "bucket_name": "out", "key": "k", "request_id": "R1", "retries": 0},
				"http": map[string]any{"response": map[string]any{"status": 200}},
			}},
		}),
		doc(node, "2000000000000001", "node-api", base+2, base+3, map[string]any{
			"origin":  "AWS::EC2::Instance",
			"service": map[string]any{"name": "node-api", "version": "1.0.0"},
			"aws": map[string]any{"xray": map[string]any{"sdk": "X-Ray for Node.js", "sdk_version": "3.10.0", "package": "aws-xray-sdk"},
				"ec2": map[string]any{"instance_id": "i-0abc", "availability_zone": "us-east-1a"}},
			"http":  map[string]any{"request": map[string]any{"method": "POST", "url": "http://localhost/orders", "client_ip": "127.0.0.1"}, "response": map[string]any{"status": 500}},
			"fault": true,
			"cause": map[string]any{"working_directory": "/app", "exceptions": []any{map[string]any{"id": "e1", "message": "boom", "type": "Error"}}},
			"subsegments": []any{
				map[string]any{"id": "2000000000000002", "name": "SQS", "namespace": "aws", "start_time": base + 2.1, "end_time": base + 2.2,
					"aws": map[string]any{"operation": "SendMessage", "queue_url": "https://sqs.us-east-1.amazonaws.com/000000000000/q", "retries": 1}},
				map[string]any{"id": "2000000000000003", "name": "example.com", "namespace": "remote", "start_time": base + 2.3, "end_time": base + 2.9,
					"fault": true, "http": map[string]any{"request": map[string]any{"method": "GET", "url": "https://example.com/"}, "response": map[string]any{"status": 503}}},
			},
		}),
	}
	if un := put(t, c, docs...); len(un) != 0 {
		t.Fatalf("unprocessed: %+v", un)
	}
	for expr, want := range map[string]string{
		`annotation.job_id = "py-1"`:    python,
		`service("node-api") and fault`: node,
	} {
		if got := ids(summaries(t, c, &xray.GetTraceSummariesInput{FilterExpression: aws.String(expr)})); !cmp.Equal(got, []string{want}) {
			t.Errorf("%s: %v, want %s", expr, got, want)
		}
	}
	type inferred struct {
		Name     string `json:"name"`
		ParentID string `json:"parent_id"`
		Origin   string `json:"origin"`
		Inferred bool   `json:"inferred"`
		Fault    bool   `json:"fault"`
	}
	check := func(trace string, want []inferred) {
		t.Helper()
		var got []inferred
		for _, d := range getTrace(t, c, trace)[1:] {
			var in inferred
			if err := json.Unmarshal([]byte(d), &in); err != nil {
				t.Fatal(err)
			}
			got = append(got, in)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("inferred segments of %s (-want +got):\n%s", trace, diff)
		}
	}
	check(python, []inferred{{Name: "s3", ParentID: "1000000000000002", Origin: "AWS::S3::Bucket", Inferred: true}})
	check(node, []inferred{
		{Name: "SQS", ParentID: "2000000000000002", Origin: "AWS::SQS::Queue", Inferred: true},
		{Name: "example.com", ParentID: "2000000000000003", Inferred: true, Fault: true},
	})
}
