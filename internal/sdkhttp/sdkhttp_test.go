package sdkhttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/batchxray/batchxray/internal/sdkhttp"
)

// A fast endpoint answering a large response: without the copy, about one
// call in ten failed here with "use of closed network connection".
func TestLargeResponsesFromAFastEndpoint(t *testing.T) {
	var roles strings.Builder
	for range 100 {
		roles.WriteString(`<member><Path>/</Path><RoleName>r</RoleName><RoleId>AROAXXXXXXXXXXXXXXXXX</RoleId><Arn>arn:aws:iam::000000000000:role/r</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>` + strings.Repeat("x", 300) + `</AssumeRolePolicyDocument></member>`)
	}
	body := `<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolesResult><IsTruncated>false</IsTruncated><Roles>` + roles.String() + `</Roles></ListRolesResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></ListRolesResponse>`
	var got strings.Builder
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if got.Len() == 0 {
			got.Write(b)
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, body)
	}))
	defer ts.Close()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("a", "b", "")),
		config.WithBaseEndpoint(ts.URL), config.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	sdkhttp.Install(&cfg)
	c := iam.NewFromConfig(cfg)
	for i := range 200 {
		out, err := c.ListRoles(context.Background(), &iam.ListRolesInput{MaxItems: aws.Int32(100)})
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if len(out.Roles) != 100 {
			t.Fatalf("call %d: %d roles, want 100", i, len(out.Roles))
		}
	}
	// The body the server read is the SDK's, unchanged by the copy.
	if !strings.Contains(got.String(), "Action=ListRoles") || !strings.Contains(got.String(), "MaxItems=100") {
		t.Errorf("request body = %q", got.String())
	}
}
