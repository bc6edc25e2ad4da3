package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/rogpeppe/go-internal/testscript"
)

// cmdAWSPut is the script command `awsput loggroup NAME`: it creates a log
// group without any tag on the stand-in at $AWS_ENDPOINT_URL, as someone
// else's same-named resource that down must leave alone. The CLI has no
// command that makes an untagged resource, on purpose.
func cmdAWSPut(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || args[0] != "loggroup" {
		ts.Fatalf("usage: awsput loggroup NAME")
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(ts.Getenv("AWS_REGION")),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
		config.WithBaseEndpoint(ts.Getenv("AWS_ENDPOINT_URL")),
	)
	if err != nil {
		ts.Fatalf("awsput: %v", err)
	}
	_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(args[1])})
	ts.Check(err)
}

// cmdValidJSON is the script command `validjson FILE`: FILE (stdout after
// an exec) holds one valid JSON value.
func cmdValidJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: validjson FILE")
	}
	var v any
	err := json.Unmarshal([]byte(ts.ReadFile(args[0])), &v)
	switch {
	case neg && err == nil:
		ts.Fatalf("%s is valid JSON", args[0])
	case !neg && err != nil:
		ts.Fatalf("%s is not valid JSON: %v", args[0], err)
	}
}
