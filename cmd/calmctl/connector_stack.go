package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// secretsKeyOutput is the stack output naming the customer-managed key of the connector
// secrets (infra/cdk's SecretsKeyOutput, written when secretsKmsKeyArn is set).
const secretsKeyOutput = "SecretsKmsKeyArn" //nolint:gosec // G101: a stack output's name, no credential

// checkStack makes sure the CloudFormation stack a connector is added to exists and is not
// being deleted: a connector stored under a stack that is not there would never be collected.
// It returns the stack's customer key of the secrets ("" when the stack uses the AWS-managed
// key), which a connector added to it must be encrypted with.
func checkStack(ctx context.Context, cfg aws.Config, stack string) (secretsKey string, err error) {
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationError" {
		return "", fmt.Errorf("--stack %s: no such CloudFormation stack in %s (deploy it first with make deploy, or give its stackName)", stack, cfg.Region)
	}
	if err != nil {
		return "", fmt.Errorf("--stack %s: %s", stack, awsMessage(err))
	}
	for _, s := range out.Stacks {
		switch s.StackStatus {
		case types.StackStatusDeleteInProgress, types.StackStatusDeleteComplete, types.StackStatusRollbackComplete, types.StackStatusCreateFailed:
			return "", fmt.Errorf("--stack %s is %s in %s: it collects nothing; deploy it again first", stack, s.StackStatus, cfg.Region)
		}
		for _, o := range s.Outputs {
			if aws.ToString(o.OutputKey) == secretsKeyOutput {
				secretsKey = aws.ToString(o.OutputValue)
			}
		}
	}
	return secretsKey, nil
}
