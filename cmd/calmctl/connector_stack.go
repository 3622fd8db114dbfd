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

// checkStack makes sure the CloudFormation stack a connector is added to exists and is not
// being deleted: a connector stored under a stack that is not there would never be collected.
func checkStack(ctx context.Context, cfg aws.Config, stack string) error {
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ValidationError" {
		return fmt.Errorf("--stack %s: no such CloudFormation stack in %s (deploy it first with make deploy, or give its stackName)", stack, cfg.Region)
	}
	if err != nil {
		return fmt.Errorf("--stack %s: %s", stack, awsMessage(err))
	}
	for _, s := range out.Stacks {
		switch s.StackStatus {
		case types.StackStatusDeleteInProgress, types.StackStatusDeleteComplete, types.StackStatusRollbackComplete, types.StackStatusCreateFailed:
			return fmt.Errorf("--stack %s is %s in %s: it collects nothing; deploy it again first", stack, s.StackStatus, cfg.Region)
		}
	}
	return nil
}
