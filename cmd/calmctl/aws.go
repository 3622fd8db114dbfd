package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
)

// loadAWS loads the SDK configuration; CALM_ENDPOINT_URL (or AWS_ENDPOINT_URL) points it at moto.
// A missing region or missing credentials is said in one line naming what to set, before any
// call is made.
func loadAWS(ctx context.Context) (aws.Config, error) {
	c, err := config.LoadDefaultConfig(ctx)
	if p := os.Getenv("AWS_PROFILE"); err != nil && strings.Contains(err.Error(), "failed to get shared config profile") {
		return aws.Config{}, fmt.Errorf("AWS_PROFILE=%s is not a profile of ~/.aws/config or ~/.aws/credentials: fix the name, or create it with aws configure --profile %s", p, p)
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %s", awsMessage(err))
	}
	if ep := os.Getenv("CALM_ENDPOINT_URL"); ep != "" {
		c.BaseEndpoint = aws.String(ep)
	}
	if c.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set AWS_REGION (e.g. export AWS_REGION=eu-central-1), or region in the profile of ~/.aws/config")
	}
	if _, err := c.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, fmt.Errorf("no AWS credentials: %s", credentialsHint(err))
	}
	return c, nil
}

// credentialsHint says in one line what to set when the SDK found no usable credentials.
func credentialsHint(err error) string {
	msg := err.Error()
	profile := os.Getenv("AWS_PROFILE")
	switch {
	case strings.Contains(msg, "refresh cached SSO token") || strings.Contains(msg, "SSO"):
		return fmt.Sprintf("the SSO session of profile %q has expired or never started: run aws sso login --profile %s", profile, profile)
	case profile != "" && strings.Contains(msg, "profile"):
		return fmt.Sprintf("AWS_PROFILE=%s is not a profile of ~/.aws/config or ~/.aws/credentials (aws configure --profile %s)", profile, profile)
	case os.Getenv("AWS_ACCESS_KEY_ID") != "" && os.Getenv("AWS_SECRET_ACCESS_KEY") == "":
		return "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither and AWS_PROFILE"
	}
	return "set AWS_PROFILE (after aws configure or aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
}

// awsMessage is an AWS error in one line: the service's code and message without the SDK's
// chain of operation, request id and retry wrappers.
func awsMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		var op *smithy.OperationError
		if errors.As(err, &op) {
			return fmt.Sprintf("%s %s: %s: %s", op.ServiceID, op.OperationName, api.ErrorCode(), api.ErrorMessage())
		}
		return fmt.Sprintf("%s: %s", api.ErrorCode(), api.ErrorMessage())
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
