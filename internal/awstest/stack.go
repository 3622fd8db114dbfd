package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// CreateStack creates, in moto, an empty CloudFormation stack named name (one wait-condition
// handle, which needs no other service): what `calmctl connector add --stack` looks for.
func (s *MotoServer) CreateStack(t testing.TB, name string) {
	t.Helper()
	ctx := context.Background()
	cf := cloudformation.NewFromConfig(s.AWSConfig(ctx))
	body := `{"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}`
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
		t.Fatalf("create stack %s in moto: %v", name, err)
	}
}
