package sts_test

import (
	"context"
	"errors"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/batchxray/batchxray/internal/localaws"
	"github.com/batchxray/batchxray/internal/localaws/localawstest"
)

func TestGetCallerIdentity(t *testing.T) {
	for _, tt := range []struct {
		account, want string
	}{
		{"", "000000000000"},
		{"123456789012", "123456789012"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			_, cfg := localawstest.Start(t, localaws.Options{Account: tt.account})
			out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{*out.Account, *out.Arn, *out.UserId}
			if diff := cmp.Diff([]string{tt.want, "arn:aws:iam::" + tt.want + ":root", tt.want}, got); diff != "" {
				t.Errorf("Account, Arn, UserId (-want +got):\n%s", diff)
			}
		})
	}
}

func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode(), re.HTTPStatusCode()
}

func TestThrottling(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{ThrottleRate: 1})
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if code, status := apiError(t, err); code != "Throttling" || status != 400 {
		t.Errorf("got %s %d, want Throttling 400", code, status)
	}
}

func TestUnimplementedOperation(t *testing.T) {
	_, cfg := localawstest.Start(t, localaws.Options{})
	_, err := sts.NewFromConfig(cfg).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	if code, status := apiError(t, err); code != "NotImplemented" || status != 501 {
		t.Errorf("got %s %d (%v), want NotImplemented 501", code, status, err)
	}
}
