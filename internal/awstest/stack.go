package awstest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
)

// CreateStack creates, in moto, an empty CloudFormation stack named name (one wait-condition
// handle, which needs no other service): what `calmctl connector add --stack` looks for.
func (s *MotoServer) CreateStack(t testing.TB, name string) {
	t.Helper()
	s.CreateStackWithOutputs(t, name, nil)
}

// CreateStackWithOutputs is CreateStack with stack outputs (name: value), such as the
// SecretsKmsKeyArn a stack with a customer key of its secrets writes.
func (s *MotoServer) CreateStackWithOutputs(t testing.TB, name string, outputs map[string]string) {
	t.Helper()
	ctx := context.Background()
	cf := cloudformation.NewFromConfig(s.AWSConfig(ctx))
	tpl := map[string]any{"Resources": map[string]any{"Handle": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
	if len(outputs) > 0 {
		outs := map[string]any{}
		for k, v := range outputs {
			outs[k] = map[string]any{"Value": v}
		}
		tpl["Outputs"] = outs
	}
	raw, _ := json.Marshal(tpl)
	body := string(raw)
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
		t.Fatalf("create stack %s in moto: %v", name, err)
	}
}
