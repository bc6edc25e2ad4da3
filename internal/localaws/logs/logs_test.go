package logs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/awsproto"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
	"github.com/batchxray/batchxray/internal/localaws/logs"
)

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const arnPrefix = "arn:aws:logs:us-east-1:000000000000:log-group:"

func start(t *testing.T) (*cwl.Client, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(epoch)
	_, cfg := localawstest.Start(t, localaws.Options{Clock: clock})
	return cwl.NewFromConfig(cfg), clock
}

func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ms(d time.Duration) *int64 { return aws.Int64(epoch.Add(d).UnixMilli()) }

func createGroup(t *testing.T, c *cwl.Client, name string, tags map[string]string) {
	t.Helper()
	must(c.CreateLogGroup(context.Background(), &cwl.CreateLogGroupInput{LogGroupName: aws.String(name), Tags: tags}))(t)
}

func createStream(t *testing.T, c *cwl.Client, group, stream string) {
	t.Helper()
	must(c.CreateLogStream(context.Background(), &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}))(t)
}

func put(t *testing.T, c *cwl.Client, group, stream string, events ...types.InputLogEvent) *cwl.PutLogEventsOutput {
	t.Helper()
	return must(c.PutLogEvents(context.Background(), &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: events}))(t)
}

func ev(at time.Duration, msg string) types.InputLogEvent {
	return types.InputLogEvent{Timestamp: ms(at), Message: aws.String(msg)}
}

func messages[E any](events []E, msg func(E) *string) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, aws.ToString(msg(e)))
	}
	return out
}

func outMsg(e types.OutputLogEvent) *string        { return e.Message }
func filteredMsg(e types.FilteredLogEvent) *string { return e.Message }

func TestLogGroupLifecycle(t *testing.T) {
	c, clock := start(t)
	ctx := context.Background()
	createGroup(t, c, "/batchxray/a", map[string]string{"batchxray:stack": "a"})
	clock.Advance(time.Second)
	createGroup(t, c, "/batchxray/b", nil)
	createGroup(t, c, "/other", nil)

	out := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/batchxray/")}))(t)
	var got []string
	for _, g := range out.LogGroups {
		got = append(got, aws.ToString(g.LogGroupName))
	}
	if diff := cmp.Diff([]string{"/batchxray/a", "/batchxray/b"}, got); diff != "" {
		t.Errorf("groups by prefix (-want +got):\n%s", diff)
	}
	a := out.LogGroups[0]
	if aws.ToString(a.Arn) != arnPrefix+"/batchxray/a:*" || aws.ToString(a.LogGroupArn) != arnPrefix+"/batchxray/a" {
		t.Errorf("arn %q logGroupArn %q", aws.ToString(a.Arn), aws.ToString(a.LogGroupArn))
	}
	if aws.ToInt64(a.CreationTime) != epoch.UnixMilli() || a.RetentionInDays != nil || a.LogGroupClass != types.LogGroupClassStandard {
		t.Errorf("group a: creation %d retention %v class %q", aws.ToInt64(a.CreationTime), a.RetentionInDays, a.LogGroupClass)
	}

	// Pagination walks every group once, in name order.
	p := cwl.NewDescribeLogGroupsPaginator(c, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(2)})
	var pages [][]string
	for p.HasMorePages() {
		page := must(p.NextPage(ctx))(t)
		var names []string
		for _, g := range page.LogGroups {
			names = append(names, aws.ToString(g.LogGroupName))
		}
		pages = append(pages, names)
	}
	if diff := cmp.Diff([][]string{{"/batchxray/a", "/batchxray/b"}, {"/other"}}, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}

	pattern := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("OTHER")}))(t)
	if len(pattern.LogGroups) != 1 || aws.ToString(pattern.LogGroups[0].LogGroupName) != "/other" {
		t.Errorf("pattern matched %+v", pattern.LogGroups)
	}

	byID := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupIdentifiers: []string{arnPrefix + "/other", "/batchxray/b"}}))(t)
	if len(byID.LogGroups) != 2 || aws.ToString(byID.LogGroups[0].LogGroupName) != "/batchxray/b" || aws.ToString(byID.LogGroups[1].LogGroupName) != "/other" {
		t.Errorf("groups by identifier: %+v", byID.LogGroups)
	}

	must(c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/batchxray/a")}))(t)
	out = must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/batchxray/a")}))(t)
	if len(out.LogGroups) != 0 {
		t.Errorf("deleted group still listed: %+v", out.LogGroups)
	}
}

func TestLogStreams(t *testing.T) {
	c, clock := start(t)
	ctx := context.Background()
	createGroup(t, c, "g", nil)
	for _, s := range []string{"job/b", "job/a", "other"} {
		createStream(t, c, "g", s)
	}
	// "other" gets the latest event, "job/b" the earliest.
	put(t, c, "g", "job/b", ev(0, "b"))
	put(t, c, "g", "job/a", ev(time.Minute, "a"))
	clock.Advance(time.Second)
	put(t, c, "g", "other", ev(2*time.Minute, "o"))

	names := func(in *cwl.DescribeLogStreamsInput) []string {
		t.Helper()
		in.LogGroupName = aws.String("g")
		out := must(c.DescribeLogStreams(ctx, in))(t)
		var got []string
		for _, s := range out.LogStreams {
			got = append(got, aws.ToString(s.LogStreamName))
		}
		return got
	}
	for _, tc := range []struct {
		name string
		in   cwl.DescribeLogStreamsInput
		want []string
	}{
		{"by name", cwl.DescribeLogStreamsInput{}, []string{"job/a", "job/b", "other"}},
		{"prefix", cwl.DescribeLogStreamsInput{LogStreamNamePrefix: aws.String("job/")}, []string{"job/a", "job/b"}},
		{"descending", cwl.DescribeLogStreamsInput{Descending: aws.Bool(true)}, []string{"other", "job/b", "job/a"}},
		{"last event time", cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime}, []string{"job/b", "job/a", "other"}},
		{"last event time descending", cwl.DescribeLogStreamsInput{OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)}, []string{"other", "job/a", "job/b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(&tc.in)); diff != "" {
				t.Errorf("streams (-want +got):\n%s", diff)
			}
		})
	}

	out := must(c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String(arnPrefix + "g"), LogStreamNamePrefix: aws.String("other")}))(t)
	o := out.LogStreams[0]
	if aws.ToInt64(o.FirstEventTimestamp) != *ms(2 * time.Minute) || aws.ToInt64(o.LastIngestionTime) != epoch.Add(time.Second).UnixMilli() ||
		aws.ToString(o.Arn) != arnPrefix+"g:log-stream:other" {
		t.Errorf("stream other: %+v", o)
	}

	must(c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("other")}))(t)
	if diff := cmp.Diff([]string{"job/a", "job/b"}, names(&cwl.DescribeLogStreamsInput{})); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
}

func TestRetentionPolicy(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createGroup(t, c, "g", nil)
	retention := func() *int32 {
		out := must(c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("g")}))(t)
		return out.LogGroups[0].RetentionInDays
	}
	must(c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(30)}))(t)
	if got := aws.ToInt32(retention()); got != 30 {
		t.Errorf("retention = %d, want 30", got)
	}
	must(c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("g")}))(t)
	if got := retention(); got != nil {
		t.Errorf("retention after delete = %d, want none", *got)
	}
}

func TestTags(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createGroup(t, c, "g", map[string]string{"a": "1"})
	arn := arnPrefix + "g"
	list := func() map[string]string {
		return must(c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn)}))(t).Tags
	}
	if diff := cmp.Diff(map[string]string{"a": "1"}, list()); diff != "" {
		t.Errorf("tags from create (-want +got):\n%s", diff)
	}
	must(c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"b": "2", "a": "3"}}))(t)
	must(c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"b"}}))(t)
	if diff := cmp.Diff(map[string]string{"a": "3"}, list()); diff != "" {
		t.Errorf("tags after tag and untag (-want +got):\n%s", diff)
	}

	must(c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"c": "4"}}))(t) //nolint:staticcheck // the stand-in serves the deprecated calls too
	must(c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String("g"), Tags: []string{"a"}}))(t)           //nolint:staticcheck // the stand-in serves the deprecated calls too
	old := must(c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("g")}))(t)                   //nolint:staticcheck // the stand-in serves the deprecated calls too
	if diff := cmp.Diff(map[string]string{"c": "4"}, old.Tags); diff != "" {
		t.Errorf("ListTagsLogGroup (-want +got):\n%s", diff)
	}
}

func TestGetLogEventsPagesAndTokens(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createGroup(t, c, "g", nil)
	createStream(t, c, "g", "s")
	put(t, c, "g", "s", ev(0, "1"), ev(time.Second, "2"), ev(2*time.Second, "3"))
	// A later batch with an earlier timestamp is stored in time order.
	put(t, c, "g", "s", ev(500*time.Millisecond, "1.5"), ev(3*time.Second, "4"))

	get := func(in cwl.GetLogEventsInput) *cwl.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("g"), aws.String("s")
		return must(c.GetLogEvents(ctx, &in))(t)
	}

	t.Run("from head, page by page, until the same token", func(t *testing.T) {
		var got [][]string
		in := cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(2)}
		for range 10 {
			out := get(in)
			got = append(got, messages(out.Events, outMsg))
			if in.NextToken != nil && aws.ToString(out.NextForwardToken) == aws.ToString(in.NextToken) {
				break
			}
			in.NextToken = out.NextForwardToken
		}
		want := [][]string{{"1", "1.5"}, {"2", "3"}, {"4"}, {}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
	t.Run("latest first, then backward", func(t *testing.T) {
		out := get(cwl.GetLogEventsInput{Limit: aws.Int32(2)})
		if diff := cmp.Diff([]string{"3", "4"}, messages(out.Events, outMsg)); diff != "" {
			t.Errorf("latest (-want +got):\n%s", diff)
		}
		back := get(cwl.GetLogEventsInput{Limit: aws.Int32(10), NextToken: out.NextBackwardToken})
		if diff := cmp.Diff([]string{"1", "1.5", "2"}, messages(back.Events, outMsg)); diff != "" {
			t.Errorf("backward (-want +got):\n%s", diff)
		}
		end := get(cwl.GetLogEventsInput{NextToken: back.NextBackwardToken})
		if len(end.Events) != 0 || aws.ToString(end.NextBackwardToken) != aws.ToString(back.NextBackwardToken) {
			t.Errorf("at the start: %d events, token %q, want the same token %q", len(end.Events), aws.ToString(end.NextBackwardToken), aws.ToString(back.NextBackwardToken))
		}
	})
	t.Run("time window", func(t *testing.T) {
		out := get(cwl.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: ms(time.Second), EndTime: ms(3 * time.Second)})
		if diff := cmp.Diff([]string{"2", "3"}, messages(out.Events, outMsg)); diff != "" {
			t.Errorf("window (-want +got):\n%s", diff)
		}
		if ing := aws.ToInt64(out.Events[0].IngestionTime); ing != epoch.UnixMilli() {
			t.Errorf("ingestion time %d, want %d", ing, epoch.UnixMilli())
		}
	})
	t.Run("paginator stops at the repeated token", func(t *testing.T) {
		p := cwl.NewGetLogEventsPaginator(c, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)},
			func(o *cwl.GetLogEventsPaginatorOptions) { o.Limit, o.StopOnDuplicateToken = 3, true })
		var all []string
		for p.HasMorePages() {
			all = append(all, messages(must(p.NextPage(ctx))(t).Events, outMsg)...)
		}
		if diff := cmp.Diff([]string{"1", "1.5", "2", "3", "4"}, all); diff != "" {
			t.Errorf("paginated (-want +got):\n%s", diff)
		}
	})
}

func TestPutLogEventsRejectsOutsideTheWindows(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createGroup(t, c, "g", nil)
	createStream(t, c, "g", "s")
	must(c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(1)}))(t)
	out := put(t, c, "g", "s",
		ev(-15*24*time.Hour, "older than 14 days"),
		ev(-2*24*time.Hour, "older than the retention"),
		ev(-time.Hour, "kept"),
		ev(time.Hour, "kept too"),
		ev(3*time.Hour, "too new"),
	)
	want := &types.RejectedLogEventsInfo{TooOldLogEventEndIndex: aws.Int32(0), ExpiredLogEventEndIndex: aws.Int32(1), TooNewLogEventStartIndex: aws.Int32(4)}
	if diff := cmp.Diff(want, out.RejectedLogEventsInfo, cmp.AllowUnexported(types.RejectedLogEventsInfo{})); diff != "" {
		t.Errorf("rejected (-want +got):\n%s", diff)
	}
	got := must(c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)}))(t)
	if diff := cmp.Diff([]string{"kept", "kept too"}, messages(got.Events, outMsg)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if accepted := put(t, c, "g", "s", ev(0, "x")); accepted.RejectedLogEventsInfo != nil {
		t.Errorf("clean batch reported rejections: %+v", accepted.RejectedLogEventsInfo)
	}
}

func TestFilterLogEvents(t *testing.T) {
	c, _ := start(t)
	ctx := context.Background()
	createGroup(t, c, "g", nil)
	createStream(t, c, "g", "a")
	createStream(t, c, "g", "b")
	createGroup(t, c, "h", nil)
	createStream(t, c, "h", "x")
	put(t, c, "h", "x", ev(0, "ERROR in another group"))
	put(t, c, "g", "a", ev(0, "ERROR disk full"), ev(2*time.Second, "INFO ok"), ev(4*time.Second, "WARN slow disk"))
	put(t, c, "g", "b", ev(time.Second, "ERROR connection reset"), ev(3*time.Second, "DEBUG disk probe"))

	for _, tc := range []struct {
		name string
		in   cwl.FilterLogEventsInput
		want []string
	}{
		{"everything interleaved", cwl.FilterLogEventsInput{}, []string{"ERROR disk full", "ERROR connection reset", "INFO ok", "DEBUG disk probe", "WARN slow disk"}},
		{"term", cwl.FilterLogEventsInput{FilterPattern: aws.String("ERROR")}, []string{"ERROR disk full", "ERROR connection reset"}},
		{"all terms", cwl.FilterLogEventsInput{FilterPattern: aws.String("disk ERROR")}, []string{"ERROR disk full"}},
		{"quoted phrase", cwl.FilterLogEventsInput{FilterPattern: aws.String(`"connection reset"`)}, []string{"ERROR connection reset"}},
		{"any term", cwl.FilterLogEventsInput{FilterPattern: aws.String("?WARN ?INFO")}, []string{"INFO ok", "WARN slow disk"}},
		{"excluded term", cwl.FilterLogEventsInput{FilterPattern: aws.String("disk -DEBUG")}, []string{"ERROR disk full", "WARN slow disk"}},
		{"case sensitive", cwl.FilterLogEventsInput{FilterPattern: aws.String("error")}, []string{}},
		{"stream names", cwl.FilterLogEventsInput{LogStreamNames: []string{"b"}}, []string{"ERROR connection reset", "DEBUG disk probe"}},
		{"stream prefix", cwl.FilterLogEventsInput{LogStreamNamePrefix: aws.String("a")}, []string{"ERROR disk full", "INFO ok", "WARN slow disk"}},
		{"time window", cwl.FilterLogEventsInput{StartTime: ms(time.Second), EndTime: ms(3 * time.Second)}, []string{"ERROR connection reset", "INFO ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.LogGroupName = aws.String("g")
			out := must(c.FilterLogEvents(ctx, &in))(t)
			if diff := cmp.Diff(tc.want, messages(out.Events, filteredMsg)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		p := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), Limit: aws.Int32(2)})
		var pages [][]string
		for p.HasMorePages() {
			out := must(p.NextPage(ctx))(t)
			pages = append(pages, messages(out.Events, filteredMsg))
			for _, e := range out.Events {
				if aws.ToString(e.LogStreamName) == "" || len(aws.ToString(e.EventId)) == 0 {
					t.Errorf("event without stream or id: %+v", e)
				}
			}
		}
		want := [][]string{{"ERROR disk full", "ERROR connection reset"}, {"INFO ok", "DEBUG disk probe"}, {"WARN slow disk"}}
		if diff := cmp.Diff(want, pages); diff != "" {
			t.Errorf("pages (-want +got):\n%s", diff)
		}
	})
}

// TestWrite is the seam Batch writes job output through: it creates the
// group and the stream, and the events read back through the SDK.
func TestWrite(t *testing.T) {
	clock := clockwork.NewFakeClockAt(epoch)
	svc := logs.New(awsproto.Env{Account: "000000000000", Region: "us-east-1", Clock: clock})
	ts := httptest.NewServer(svc)
	t.Cleanup(ts.Close)
	c := cwl.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	})

	svc.Write("/aws/batch/job", "def/default/abc", epoch.Add(time.Second), "second")
	svc.Write("/aws/batch/job", "def/default/abc", epoch, "first")

	ctx := context.Background()
	streams := must(c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("/aws/batch/job")}))(t)
	if len(streams.LogStreams) != 1 || aws.ToString(streams.LogStreams[0].LogStreamName) != "def/default/abc" {
		t.Fatalf("streams: %+v", streams.LogStreams)
	}
	out := must(c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("/aws/batch/job"), LogStreamName: aws.String("def/default/abc"), StartFromHead: aws.Bool(true)}))(t)
	if diff := cmp.Diff([]string{"first", "second"}, messages(out.Events, outMsg)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestThrottling(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ThrottleRate: 1})
	_, err := cwl.NewFromConfig(cfg).DescribeLogGroups(context.Background(), &cwl.DescribeLogGroupsInput{})
	var te *types.ThrottlingException
	if !errors.As(err, &te) || status(err) != http.StatusBadRequest {
		t.Errorf("err = %v (status %d), want ThrottlingException with 400", err, status(err))
	}
}

func TestNotImplemented(t *testing.T) {
	c, _ := start(t)
	_, err := c.DescribeMetricFilters(context.Background(), &cwl.DescribeMetricFiltersInput{})
	if code(err) != "NotImplemented" || !strings.Contains(err.Error(), "DescribeMetricFilters") {
		t.Errorf("err = %v, want NotImplemented naming the operation", err)
	}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestRules is the table of CloudWatch Logs' rules the stand-in keeps: each
// row breaks one and must get the service's own error code, with 400.
func TestRules(t *testing.T) {
	ctx := context.Background()
	group := func(t *testing.T, c *cwl.Client) { createGroup(t, c, "g", nil) }
	stream := func(t *testing.T, c *cwl.Client) { createGroup(t, c, "g", nil); createStream(t, c, "g", "s") }
	putEvents := func(events ...types.InputLogEvent) func(*cwl.Client) error {
		return func(c *cwl.Client) error {
			_, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), LogEvents: events})
			return err
		}
	}
	many := func(n, size int) []types.InputLogEvent {
		out := make([]types.InputLogEvent, n)
		for i := range out {
			out[i] = ev(0, strings.Repeat("x", size))
		}
		return out
	}
	manyTags := map[string]string{}
	for i := range 51 {
		manyTags[fmt.Sprintf("k%d", i)] = "v"
	}

	for _, tc := range []struct {
		rule  string
		setup func(*testing.T, *cwl.Client)
		call  func(*cwl.Client) error
		code  string
	}{
		{"a log group name is unique", group, func(c *cwl.Client) error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")})
			return err
		}, "ResourceAlreadyExistsException"},
		{"a log group name has only [.-_/#A-Za-z0-9]", nil, func(c *cwl.Client) error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
			return err
		}, "InvalidParameterException"},
		{"a log group has at most 50 tags", nil, func(c *cwl.Client) error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g"), Tags: manyTags})
			return err
		}, "InvalidParameterException"},
		{"tag keys starting with aws: are reserved", nil, func(c *cwl.Client) error {
			_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g"), Tags: map[string]string{"aws:x": "v"}})
			return err
		}, "InvalidParameterException"},
		{"TagResource past 50 tags", group, func(c *cwl.Client) error {
			_, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arnPrefix + "g"), Tags: manyTags})
			return err
		}, "TooManyTagsException"},
		{"deleting a missing log group", nil, func(c *cwl.Client) error {
			_, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("g")})
			return err
		}, "ResourceNotFoundException"},
		{"a stream needs its group", nil, func(c *cwl.Client) error {
			_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceNotFoundException"},
		{"a log stream name is unique in its group", stream, func(c *cwl.Client) error {
			_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceAlreadyExistsException"},
		{"a log stream name has no : or *", group, func(c *cwl.Client) error {
			_, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("a:b")})
			return err
		}, "InvalidParameterException"},
		{"deleting a missing log stream", group, func(c *cwl.Client) error {
			_, err := c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceNotFoundException"},
		{"DescribeLogStreams of a missing group", nil, func(c *cwl.Client) error {
			_, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g")})
			return err
		}, "ResourceNotFoundException"},
		{"orderBy LastEventTime excludes a name prefix", group, func(c *cwl.Client) error {
			_, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("g"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("x")})
			return err
		}, "InvalidParameterException"},
		{"DescribeLogGroups limit is at most 50", nil, func(c *cwl.Client) error {
			_, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)})
			return err
		}, "InvalidParameterException"},
		{"retention takes only the listed values", group, func(c *cwl.Client) error {
			_, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(2)})
			return err
		}, "InvalidParameterException"},
		{"retention of a missing group", nil, func(c *cwl.Client) error {
			_, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(7)})
			return err
		}, "ResourceNotFoundException"},
		{"tags of a missing group", nil, func(c *cwl.Client) error {
			_, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arnPrefix + "g")})
			return err
		}, "ResourceNotFoundException"},
		{"a resource ARN must be an ARN", nil, func(c *cwl.Client) error {
			_, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String("g"), Tags: map[string]string{"a": "b"}})
			return err
		}, "InvalidParameterException"},
		{"PutLogEvents needs the stream", group, putEvents(ev(0, "x")), "ResourceNotFoundException"},
		{"PutLogEvents needs the group", nil, putEvents(ev(0, "x")), "ResourceNotFoundException"},
		{"a batch is in chronological order", stream, putEvents(ev(time.Second, "b"), ev(0, "a")), "InvalidParameterException"},
		{"a batch has at most 10,000 events", stream, putEvents(many(10001, 1)...), "InvalidParameterException"},
		{"a batch is at most 1,048,576 bytes with 26 per event", stream, putEvents(many(4, 262144-25)...), "InvalidParameterException"},
		{"a batch spans at most 24 hours", stream, putEvents(ev(-30*time.Hour, "a"), ev(0, "b")), "InvalidParameterException"},
		{"a message is not empty", stream, putEvents(ev(0, "")), "InvalidParameterException"},
		{"GetLogEvents of a missing stream", group, func(c *cwl.Client) error {
			_, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s")})
			return err
		}, "ResourceNotFoundException"},
		{"GetLogEvents limit is at most 10,000", stream, func(c *cwl.Client) error {
			_, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), Limit: aws.Int32(10001)})
			return err
		}, "InvalidParameterException"},
		{"a token must be one the service gave", stream, func(c *cwl.Client) error {
			_, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogStreamName: aws.String("s"), NextToken: aws.String("nope")})
			return err
		}, "InvalidParameterException"},
		{"logGroupName and logGroupIdentifier are exclusive", stream, func(c *cwl.Client) error {
			_, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: aws.String("g"), LogGroupIdentifier: aws.String("g"), LogStreamName: aws.String("s")})
			return err
		}, "InvalidParameterException"},
		{"logStreamNames and logStreamNamePrefix are exclusive", stream, func(c *cwl.Client) error {
			_, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"s"}, LogStreamNamePrefix: aws.String("s")})
			return err
		}, "InvalidParameterException"},
		{"FilterLogEvents of a missing stream", group, func(c *cwl.Client) error {
			_, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: aws.String("g"), LogStreamNames: []string{"s"}})
			return err
		}, "ResourceNotFoundException"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			c, _ := start(t)
			if tc.setup != nil {
				tc.setup(t, c)
			}
			err := tc.call(c)
			if got := code(err); got != tc.code || status(err) != http.StatusBadRequest {
				t.Errorf("err = %v (code %q, status %d), want %s with 400", err, got, status(err), tc.code)
			}
		})
	}
}
