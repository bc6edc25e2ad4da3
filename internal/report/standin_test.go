package report

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	lxray "github.com/batchxray/batchxray/internal/localaws/xray"
	"github.com/batchxray/batchxray/internal/traceid"
	"github.com/batchxray/batchxray/internal/waiter"
)

// fakeBatchxray stands in for the batchxray binary inside the stand-in's
// jobs: `batchxray job -- CMD ARGS` runs CMD ARGS with its exit code.
const fakeBatchxray = `#!/bin/sh
[ "$1" = job ] && shift
[ "$1" = -- ] && shift
[ $# -eq 0 ] && exit 0
exec "$@"
`

const (
	testQueue = "demo-queue"
	testDef   = "demo-job"
)

// standIn is the stand-in with a VALID compute environment, a queue and a
// job definition, made over the wire as `up` makes them.
type standIn struct {
	srv *localaws.Server
	bc  *batch.Client
	xc  *xray.Client
}

func startStandIn(t testing.TB, opts localaws.Options) *standIn {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "batchxray")
	if err := os.WriteFile(exe, []byte(fakeBatchxray), 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Executable, opts.ComputeEnvironmentDelay = exe, 20*time.Millisecond
	srv, cfg := localawstest.Start(t, opts)
	ctx := context.Background()
	ic := iam.NewFromConfig(cfg)
	bc := batch.NewFromConfig(cfg, func(o *batch.Options) { o.RetryMaxAttempts = 3 })
	must(t, "create role", func() error {
		_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("demo-instance"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
		return err
	})
	must(t, "create instance profile", func() error {
		_, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("demo-instance")})
		return err
	})
	must(t, "add role to instance profile", func() error {
		_, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("demo-instance"), RoleName: aws.String("demo-instance")})
		return err
	})
	must(t, "create compute environment", func() error {
		_, err := bc.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{
			ComputeEnvironmentName: aws.String("demo-ce"), Type: types.CETypeManaged,
			ComputeResources: &types.ComputeResource{
				Type: types.CRTypeEc2, MinvCpus: aws.Int32(0), MaxvCpus: aws.Int32(16),
				InstanceTypes: []string{"optimal"}, Subnets: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"},
				InstanceRole:     aws.String("demo-instance"),
				Ec2Configuration: []types.Ec2Configuration{{ImageType: aws.String("ECS_AL2023")}},
			},
		})
		return err
	})
	waitFor(t, "compute environment", func() (bool, error) {
		out, err := bc.DescribeComputeEnvironments(ctx, &batch.DescribeComputeEnvironmentsInput{ComputeEnvironments: []string{"demo-ce"}})
		return err == nil && len(out.ComputeEnvironments) == 1 && out.ComputeEnvironments[0].Status == types.CEStatusValid, err
	})
	must(t, "create job queue", func() error {
		_, err := bc.CreateJobQueue(ctx, &batch.CreateJobQueueInput{
			JobQueueName: aws.String(testQueue), Priority: aws.Int32(1),
			ComputeEnvironmentOrder: []types.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String("demo-ce")}},
		})
		return err
	})
	waitFor(t, "job queue", func() (bool, error) {
		out, err := bc.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{JobQueues: []string{testQueue}})
		return err == nil && len(out.JobQueues) == 1 && out.JobQueues[0].Status == types.JQStatusValid, err
	})
	must(t, "register job definition", func() error {
		_, err := bc.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{
			JobDefinitionName: aws.String(testDef), Type: types.JobDefinitionTypeContainer,
			ContainerProperties: &types.ContainerProperties{
				Image: aws.String("batchxray:local"), Command: []string{"batchxray", "job"},
				ResourceRequirements: []types.ResourceRequirement{
					{Type: types.ResourceTypeVcpu, Value: aws.String("1")},
					{Type: types.ResourceTypeMemory, Value: aws.String("512")},
				},
			},
		})
		return err
	})
	return &standIn{srv: srv, bc: bc, xc: xray.NewFromConfig(cfg)}
}

func must(t testing.TB, what string, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func waitFor(t testing.TB, what string, done func() (bool, error)) {
	t.Helper()
	waitUpTo(t, what, time.Minute, done)
}

func waitUpTo(t testing.TB, what string, maxWait time.Duration, done func() (bool, error)) {
	t.Helper()
	err := waiter.Wait(context.Background(), what, waiter.Options{MinDelay: 10 * time.Millisecond, MaxDelay: time.Second, MaxWait: maxWait}, func(context.Context) (bool, error) {
		return done()
	})
	if err != nil {
		t.Fatalf("wait for %s: %v", what, err)
	}
}

// submit submits a job running command; size > 0 makes it an array.
func (s *standIn) submit(t testing.TB, name string, command string, attempts, size int32, tags map[string]string) string {
	t.Helper()
	in := &batch.SubmitJobInput{
		JobName: aws.String(name), JobQueue: aws.String(testQueue), JobDefinition: aws.String(testDef),
		ContainerOverrides: &types.ContainerOverrides{Command: []string{"batchxray", "job", "--", "sh", "-c", command}},
		RetryStrategy:      &types.RetryStrategy{Attempts: aws.Int32(attempts)},
		Tags:               tags,
	}
	if size > 0 {
		in.ArrayProperties = &types.ArrayProperties{Size: aws.Int32(size)}
	}
	out, err := s.bc.SubmitJob(context.Background(), in)
	if err != nil {
		t.Fatalf("submit %s: %v", name, err)
	}
	return aws.ToString(out.JobId)
}

func newTraceID(t testing.TB, at time.Time) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("1-%08x-%s", at.Unix(), hex.EncodeToString(b))
}

// waitEnded waits until Batch has every job of ids SUCCEEDED or FAILED and
// returns them as DescribeJobs gave them.
func (s *standIn) waitEnded(t testing.TB, ids []string) []types.JobDetail {
	t.Helper()
	var details []types.JobDetail
	waitFor(t, "the jobs to end", func() (bool, error) {
		out, err := s.bc.DescribeJobs(context.Background(), &batch.DescribeJobsInput{Jobs: ids})
		if err != nil {
			return false, err
		}
		details = out.Jobs
		for _, d := range out.Jobs {
			if d.Status != types.JobStatusSucceeded && d.Status != types.JobStatusFailed {
				return false, nil
			}
		}
		return len(out.Jobs) == len(ids), nil
	})
	return details
}

// putTrace sends the trace a job would: a BatchJob segment with its
// annotations and an S3 subsegment, over the job's first attempt.
func (s *standIn) putTrace(t testing.TB, d types.JobDetail, traceID string) {
	t.Helper()
	start := float64(aws.ToInt64(d.Attempts[0].StartedAt)) / 1000
	end := float64(aws.ToInt64(d.Attempts[0].StoppedAt)) / 1000
	id := hex.EncodeToString([]byte(aws.ToString(d.JobId)))[:16]
	doc := fmt.Sprintf(`{"name":"BatchJob","id":%q,"trace_id":%q,"start_time":%f,"end_time":%f,`+
		`"annotations":{"job_id":%q,"job_queue":%q},`+
		`"subsegments":[{"name":"S3","id":"%s","namespace":"aws","start_time":%f,"end_time":%f,"aws":{"operation":"PutObject"}}]}`,
		id, traceID, start, end+0.001, aws.ToString(d.JobId), testQueue, "b"+id[1:], start, start+0.0005)
	out, err := s.xc.PutTraceSegments(context.Background(), &xray.PutTraceSegmentsInput{TraceSegmentDocuments: []string{doc}})
	if err != nil || len(out.UnprocessedTraceSegments) > 0 {
		t.Fatalf("put trace of %s: %v %+v", aws.ToString(d.JobId), err, out)
	}
}

// TestStandInGather submits real jobs to the stand-in (a success tagged
// with its trace ID, a failure retried once, an array with a failed
// child, and a job of another name), sends their traces as the jobs would,
// and gathers the report over the wire.
func TestStandInGather(t *testing.T) {
	s := startStandIn(t, localaws.Options{})
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	tagged := newTraceID(t, time.Now())
	ok := s.submit(t, "etl-ok", "exit 0", 1, 0, map[string]string{TraceIDTag: tagged})
	bad := s.submit(t, "etl-bad", "exit 3", 2, 0, nil)
	arr := s.submit(t, "etl-fan", `test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1`, 1, 3, nil)
	other := s.submit(t, "other", "exit 0", 1, 0, nil)
	all := []string{ok, bad, arr + ":0", arr + ":1", arr + ":2", other}
	details := s.waitEnded(t, all)
	byID := map[string]types.JobDetail{}
	for _, d := range details {
		byID[aws.ToString(d.JobId)] = d
	}
	s.putTrace(t, byID[ok], tagged)
	for _, id := range all[1:] {
		s.putTrace(t, byID[id], newTraceID(t, time.Now()))
	}

	g := &Gatherer{Batch: s.bc, XRay: s.xc, Clock: clockwork.NewRealClock(), Concurrency: 4}
	var in Input
	waitFor(t, "X-Ray to index the traces", func() (bool, error) {
		var err error
		in, err = g.Gather(ctx, Request{Queue: testQueue, Since: since, Until: time.Now(), NamePrefix: "etl-"})
		return err == nil && len(in.Traces) == 5, err
	})
	f := Compute(in, time.Now(), DefaultSlowest)
	if f.Jobs != 5 || f.Arrays != 1 || f.Traced != 5 {
		t.Fatalf("jobs %d, arrays %d, traced %d; want 5, 1, 5 (the job named other left out)", f.Jobs, f.Arrays, f.Traced)
	}
	want := []Outcome{{"SUCCEEDED", 3}, {"FAILED", 2}}
	if fmt.Sprint(f.Outcomes) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", f.Outcomes, want)
	}
	if f.Attempts.Retried != 1 || f.Attempts.FailedAttempts != 3 {
		t.Errorf("attempts %+v: want 1 retried and 3 failed attempts (etl-bad twice, child 1)", f.Attempts)
	}
	if len(f.Failures) != 2 || f.Failures[0].Count != 1 {
		t.Errorf("failures %+v: want exit code 3 and exit code 1 apart", f.Failures)
	}
	if len(f.Subsegments) != 1 || f.Subsegments[0].Name != "S3" || f.Subsegments[0].Count != 5 {
		t.Errorf("subsegments %+v: want S3 called 5 times", f.Subsegments)
	}
	if f.QueueWait.Count != 5 || f.RunTime.Count != 5 {
		t.Errorf("queue wait of %d jobs, run time of %d: want 5", f.QueueWait.Count, f.RunTime.Count)
	}

	// Past perJobSearch jobs, one search over the queue finds the same.
	wide := *g
	wide.searchEach = 1
	byQueue, err := wide.Gather(ctx, Request{Queue: testQueue, Since: since, Until: time.Now(), NamePrefix: "etl-"})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(byQueue.Traces) != fmt.Sprint(in.Traces) {
		t.Errorf("the search over the queue found\n%v\nwant\n%v", byQueue.Traces, in.Traces)
	}

	// By ID: the array parent stands for its children.
	named, err := g.Gather(ctx, Request{Queue: testQueue, Jobs: []string{arr, ok}})
	if err != nil {
		t.Fatal(err)
	}
	if len(named.Jobs) != 4 || len(named.Traces) != 4 {
		t.Errorf("by ID: %d jobs and %d traces, want 4 and 4", len(named.Jobs), len(named.Traces))
	}
	if _, err := g.Gather(ctx, Request{Queue: testQueue, Jobs: []string{"no-such-job"}}); err == nil {
		t.Error("an unknown job ID gave no error")
	}
}

// TestStandInGatherTransactionSearch runs the stand-in as an account with
// Transaction Search on at AWS's default 1% indexing, where BatchGetTraces
// and the search see almost no trace: the report still finds every job's
// trace, a job's by its tag and an array child's by the ID derived from
// its parent's, through StartTraceRetrieval.
func TestStandInGatherTransactionSearch(t *testing.T) {
	s := startStandIn(t, localaws.Options{XRay: lxray.Config{
		Destination: "CloudWatchLogs", IndexingPercentage: 1, RetrievalDelay: 200 * time.Millisecond,
	}})
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)
	var all []string
	traceOf := map[string]string{}
	for i := range 3 {
		id := newTraceID(t, time.Now())
		job := s.submit(t, fmt.Sprintf("ts-%d", i), "exit 0", 1, 0, map[string]string{TraceIDTag: id})
		all, traceOf[job] = append(all, job), id
	}
	parentTrace := newTraceID(t, time.Now())
	arr := s.submit(t, "ts-fan", "exit 0", 1, 4, map[string]string{TraceIDTag: parentTrace})
	for i := range 4 {
		child := fmt.Sprintf("%s:%d", arr, i)
		id, err := traceid.Child(parentTrace, i)
		if err != nil {
			t.Fatal(err)
		}
		all, traceOf[child] = append(all, child), id
	}
	details := s.waitEnded(t, all)
	for _, d := range details {
		if d.Status != types.JobStatusSucceeded {
			t.Fatalf("job %s %s, want SUCCEEDED", aws.ToString(d.JobId), d.Status)
		}
	}
	for _, d := range details {
		s.putTrace(t, d, traceOf[aws.ToString(d.JobId)])
	}

	c := &counting{BatchAPI: s.bc, XRayAPI: s.xc}
	g := &Gatherer{Batch: c, XRay: c, Clock: clockwork.NewRealClock(), Concurrency: 4}
	in, err := g.Gather(ctx, Request{Queue: testQueue, Since: since, Until: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tr := range in.Traces {
		got[tr.JobID] = tr.ID
	}
	if diff := cmp.Diff(traceOf, got); diff != "" {
		t.Errorf("traces by job (-want +got):\n%s", diff)
	}
	if n := c.get.Load(); n != 0 {
		t.Errorf("%d BatchGetTraces calls, want none: BatchGetTraces sees only the indexed share", n)
	}
	if n := c.retrievals.Load(); n != 2 {
		t.Errorf("%d StartTraceRetrieval calls, want 2 (7 IDs, 5 a retrieval)", n)
	}
}
