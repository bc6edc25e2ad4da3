package awsproto_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws/awsproto"
)

var ctx = context.Background()

// serve serves h on a loopback port for the test and returns a config that
// points the unmodified SDK at it, without retries.
func serve(t *testing.T, h http.Handler) aws.Config {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return aws.Config{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(ts.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		RetryMaxAttempts: 1,
	}
}

// throttled answers every request with the service's throttling error, as
// the stand-in's router does when it throttles a call.
func throttled(svc interface {
	WriteError(http.ResponseWriter, *http.Request, *awsproto.Error)
	ThrottleError() *awsproto.Error
}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.WriteError(w, r, svc.ThrottleError())
	})
}

// apiError is the error as the SDK parsed it: code, message and status.
func apiError(t *testing.T, err error) (code, message string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want an API error", err)
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

// wantNotImplemented checks the answer to an operation the table lacks.
func wantNotImplemented(t *testing.T, err error, op string) {
	t.Helper()
	code, msg, status := apiError(t, err)
	if code != "NotImplemented" || status != http.StatusNotImplemented || !strings.Contains(msg, op) {
		t.Errorf("got %s %d %q, want NotImplemented 501 naming %s", code, status, msg, op)
	}
}

// wantThrottle checks that the SDK reads err as a throttle with status.
func wantThrottle(t *testing.T, err error, wantCode string, wantStatus int) {
	t.Helper()
	code, _, status := apiError(t, err)
	if code != wantCode || status != wantStatus {
		t.Errorf("got %s %d, want %s %d", code, status, wantCode, wantStatus)
	}
	if got := (retry.IsErrorThrottles(retry.DefaultThrottles)).IsErrorThrottle(err); got != aws.TrueTernary {
		t.Errorf("IsErrorThrottle = %v, want true: the SDK must back off", got)
	}
}

func TestJSON(t *testing.T) {
	var bodies []string
	svc := awsproto.JSON{Name: "logs", Ops: map[string]func([]byte) (any, error){
		"DescribeLogGroups": func(body []byte) (any, error) {
			bodies = append(bodies, string(body))
			return map[string]any{"logGroups": []map[string]string{{"logGroupName": "/bx/a"}}}, nil
		},
		"DeleteLogGroup": func([]byte) (any, error) {
			return nil, awsproto.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		},
	}}
	c := cwl.NewFromConfig(serve(t, svc))

	t.Run("dispatch", func(t *testing.T) {
		out, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/bx/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.LogGroups) != 1 || aws.ToString(out.LogGroups[0].LogGroupName) != "/bx/a" {
			t.Errorf("log groups = %+v, want /bx/a", out.LogGroups)
		}
		if diff := cmp.Diff([]string{`{"logGroupNamePrefix":"/bx/"}`}, bodies); diff != "" {
			t.Errorf("bodies the operation got (-want +got):\n%s", diff)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/bx/none")})
		var nf *cwltypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v, want ResourceNotFoundException", err)
		}
		if code, msg, status := apiError(t, err); code != "ResourceNotFoundException" || msg != "The specified log group does not exist." || status != http.StatusBadRequest {
			t.Errorf("got %s %q %d", code, msg, status)
		}
	})
	t.Run("unknown operation", func(t *testing.T) {
		_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/bx/b")})
		wantNotImplemented(t, err, "CreateLogGroup")
	})
	t.Run("throttle", func(t *testing.T) {
		_, err := cwl.NewFromConfig(serve(t, throttled(svc))).DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
		var te *cwltypes.ThrottlingException
		if !errors.As(err, &te) {
			t.Errorf("err = %v, want ThrottlingException", err)
		}
		wantThrottle(t, err, "ThrottlingException", http.StatusBadRequest)
	})
}

func TestQuery(t *testing.T) {
	var roles []string
	svc := awsproto.Query{Name: "STS", Namespace: awsproto.STSNamespace, Ops: map[string]func(url.Values) (any, error){
		"GetCallerIdentity": func(url.Values) (any, error) {
			return struct{ Account, Arn, UserId string }{"123456789012", "arn:aws:iam::123456789012:root", "123456789012"}, nil
		},
		"AssumeRole": func(form url.Values) (any, error) {
			roles = append(roles, form.Get("RoleArn"))
			return nil, awsproto.Errorf(http.StatusBadRequest, "MalformedPolicyDocument", "The policy is not valid.")
		},
	}}
	c := sts.NewFromConfig(serve(t, svc))

	t.Run("dispatch", func(t *testing.T) {
		out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Account) != "123456789012" || aws.ToString(out.Arn) != "arn:aws:iam::123456789012:root" {
			t.Errorf("identity = %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s")})
		var mp *ststypes.MalformedPolicyDocumentException
		if !errors.As(err, &mp) {
			t.Fatalf("err = %v, want MalformedPolicyDocumentException", err)
		}
		if code, msg, status := apiError(t, err); code != "MalformedPolicyDocument" || msg != "The policy is not valid." || status != http.StatusBadRequest {
			t.Errorf("got %s %q %d", code, msg, status)
		}
		if diff := cmp.Diff([]string{"arn:aws:iam::123456789012:role/r"}, roles); diff != "" {
			t.Errorf("forms the operation got (-want +got):\n%s", diff)
		}
	})
	t.Run("unknown operation", func(t *testing.T) {
		_, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		wantNotImplemented(t, err, "GetSessionToken")
	})
	t.Run("throttle", func(t *testing.T) {
		_, err := sts.NewFromConfig(serve(t, throttled(svc))).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		wantThrottle(t, err, "Throttling", http.StatusBadRequest)
	})
}

func TestEC2(t *testing.T) {
	type vpc struct {
		VpcID string `xml:"vpcId"`
	}
	var deleted []string
	svc := awsproto.EC2{Ops: map[string]func(url.Values) (any, error){
		"DescribeVpcs": func(url.Values) (any, error) {
			return struct {
				Vpcs []vpc `xml:"vpcSet>item"`
			}{[]vpc{{"vpc-0123456789abcdef0"}}}, nil
		},
		"DeleteVpc": func(form url.Values) (any, error) {
			deleted = append(deleted, form.Get("VpcId"))
			return nil, awsproto.Errorf(http.StatusBadRequest, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", form.Get("VpcId"))
		},
	}}
	c := ec2.NewFromConfig(serve(t, svc))

	t.Run("dispatch", func(t *testing.T) {
		out, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Vpcs) != 1 || aws.ToString(out.Vpcs[0].VpcId) != "vpc-0123456789abcdef0" {
			t.Errorf("vpcs = %+v", out.Vpcs)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String("vpc-1")})
		if code, msg, status := apiError(t, err); code != "InvalidVpcID.NotFound" || msg != "The vpc ID 'vpc-1' does not exist" || status != http.StatusBadRequest {
			t.Errorf("got %s %q %d", code, msg, status)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		_, err := c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String("vpc-2"), DryRun: aws.Bool(true)})
		if code, _, status := apiError(t, err); code != "DryRunOperation" || status != http.StatusPreconditionFailed {
			t.Errorf("got %s %d, want DryRunOperation 412", code, status)
		}
		if diff := cmp.Diff([]string{"vpc-1"}, deleted); diff != "" {
			t.Errorf("calls the operation got (-want +got): a dry run must not reach it\n%s", diff)
		}
	})
	t.Run("unknown operation", func(t *testing.T) {
		_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		wantNotImplemented(t, err, "DescribeInstances")
	})
	t.Run("throttle", func(t *testing.T) {
		_, err := ec2.NewFromConfig(serve(t, throttled(svc))).DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
		wantThrottle(t, err, "RequestLimitExceeded", http.StatusServiceUnavailable)
	})
}

func TestRESTJSON(t *testing.T) {
	var paths []string
	svc := awsproto.RESTJSON{
		Name: "batch",
		Routes: map[string]string{
			"POST /v1/describejobqueues": "DescribeJobQueues",
			"POST /v1/deletejobqueue":    "DeleteJobQueue",
			"POST /v1/createjobqueue":    "CreateJobQueue",
			"GET /v1/tags/":              "ListTagsForResource",
		},
		Ops: map[string]func(*http.Request) (any, error){
			"DescribeJobQueues": func(*http.Request) (any, error) {
				return map[string]any{"jobQueues": []map[string]string{{"jobQueueName": "q"}}}, nil
			},
			"DeleteJobQueue": func(*http.Request) (any, error) {
				return nil, awsproto.Errorf(http.StatusBadRequest, "ClientException", "Job queue q does not exist")
			},
			"ListTagsForResource": func(r *http.Request) (any, error) {
				paths = append(paths, r.URL.Path)
				return map[string]any{"tags": map[string]string{"k": "v"}}, nil
			},
		},
		Throttle: awsproto.Errorf(http.StatusTooManyRequests, "TooManyRequestsException", "Too Many Requests"),
	}
	c := batch.NewFromConfig(serve(t, svc))

	t.Run("dispatch", func(t *testing.T) {
		out, err := c.DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.JobQueues) != 1 || aws.ToString(out.JobQueues[0].JobQueueName) != "q" {
			t.Errorf("job queues = %+v", out.JobQueues)
		}
	})
	t.Run("dispatch by path prefix", func(t *testing.T) {
		const arn = "arn:aws:batch:us-east-1:123456789012:job-queue/q"
		out, err := c.ListTagsForResource(ctx, &batch.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{"k": "v"}, out.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"/v1/tags/" + arn}, paths); diff != "" {
			t.Errorf("paths the operation got (-want +got):\n%s", diff)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, err := c.DeleteJobQueue(ctx, &batch.DeleteJobQueueInput{JobQueue: aws.String("q")})
		var ce *batchtypes.ClientException
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want ClientException", err)
		}
		if code, msg, status := apiError(t, err); code != "ClientException" || msg != "Job queue q does not exist" || status != http.StatusBadRequest {
			t.Errorf("got %s %q %d", code, msg, status)
		}
	})
	t.Run("unknown operation", func(t *testing.T) {
		_, err := c.CreateJobQueue(ctx, &batch.CreateJobQueueInput{JobQueueName: aws.String("q"), Priority: aws.Int32(1)})
		wantNotImplemented(t, err, "CreateJobQueue")
	})
	t.Run("unknown route", func(t *testing.T) {
		_, err := c.UpdateJobQueue(ctx, &batch.UpdateJobQueueInput{JobQueue: aws.String("q")})
		if code, msg, status := apiError(t, err); code != "UnknownOperationException" || status != http.StatusNotFound || !strings.Contains(msg, "POST /v1/updatejobqueue") {
			t.Errorf("got %s %d %q, want UnknownOperationException 404 naming the route", code, status, msg)
		}
	})
	t.Run("throttle", func(t *testing.T) {
		_, err := batch.NewFromConfig(serve(t, throttled(svc))).DescribeJobQueues(ctx, &batch.DescribeJobQueuesInput{})
		wantThrottle(t, err, "TooManyRequestsException", http.StatusTooManyRequests)
	})
}

// TestS3 covers the part of S3's protocol the kit holds: errors and the
// throttle, as the SDK's REST-XML deserializers read them.
func TestS3(t *testing.T) {
	svc := awsproto.S3{}
	cfg := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		svc.WriteError(w, r, awsproto.Errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist"))
	}))
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	t.Run("error", func(t *testing.T) {
		_, err := c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("none")})
		if code, msg, status := apiError(t, err); code != "NoSuchBucket" || msg != "The specified bucket does not exist" || status != http.StatusNotFound {
			t.Errorf("got %s %q %d", code, msg, status)
		}
	})
	t.Run("throttle", func(t *testing.T) {
		tc := s3.NewFromConfig(serve(t, throttled(svc)), func(o *s3.Options) { o.UsePathStyle = true })
		_, err := tc.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String("b")})
		wantThrottle(t, err, "SlowDown", http.StatusServiceUnavailable)
	})
}
