package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// The fan-out (docs/deploy.md, "Fan-out"): one schedule ticks the collect function with
// {"dispatch":true}; it lists the connector secrets under connectorPrefix and queues one message
// per tenant due on the work queue; the queue's event-source mapping invokes collect with one
// message at a time, at most maxConcurrency at once. A message whose run did nothing becomes
// visible again and, after workReceives receives, moves to the work dead-letter queue.
const (
	// workReceives is the queue's maxReceiveCount: a tenant failing twice is dead-lettered.
	workReceives = 2
	// secretsPerNestedStack bounds the connector secrets of one nested stack, far below the 500
	// resources and 1 MB of template a stack may have; up to inlineSecrets stay in the main stack.
	secretsPerNestedStack = 250
	inlineSecrets         = 100
)

// connectorPrefix names the connector secrets of a stack: calm-collector/STACK/connectors/.
func connectorPrefix(cfg Config) string { return "calm-collector/" + cfg.StackName + "/connectors/" }

// connectorSecretsArn matches every connector secret of the stack (Secrets Manager adds a
// 6-character suffix to a secret's name in its ARN).
func (s *CollectorStack) connectorSecretsArn(cfg Config) *string {
	return jsii.String(fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s*",
		*awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), connectorPrefix(cfg)))
}

// secretScope is where the i-th created connector secret goes: the main stack for a few, else
// nested stacks of secretsPerNestedStack each, so that 1,000 connectors stay under the limits.
func (s *CollectorStack) secretScope(cfg Config, i int) constructs.Construct {
	if len(cfg.Connectors) <= inlineSecrets {
		return s.Stack
	}
	k := i / secretsPerNestedStack
	for len(s.secretStacks) <= k {
		n := awscdk.NewNestedStack(s.Stack, jsii.String(fmt.Sprintf("ConnectorSecrets%d", len(s.secretStacks))), &awscdk.NestedStackProps{
			Description: jsii.String("calm-collector: connector secrets created from the connectors context key"),
		})
		s.secretStacks = append(s.secretStacks, n)
	}
	return s.secretStacks[k]
}

// deadLetterQueue creates an encrypted, TLS-only queue that keeps its messages 14 days. Nothing
// consumes it: reason says what feeds it and what watches it (cdk-nag's AwsSolutions-SQS3).
func (s *CollectorStack) deadLetterQueue(id, reason string) awssqs.Queue {
	q := awssqs.NewQueue(s.Stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(q, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String(reason),
	}}, jsii.Bool(true))
	return q
}

// addWorkQueue creates the work queue and its dead-letter queue.
func (s *CollectorStack) addWorkQueue() {
	s.WorkDLQ = s.deadLetterQueue("WorkDeadLetters", "This queue is itself the dead-letter queue of the work queue: a tenant whose collection failed "+
		"twice lands here, an alarm fires on its first message, and the next tick dispatches the tenant again.")
	s.Work = awssqs.NewQueue(s.Stack, jsii.String("Work"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL: jsii.Bool(true),
		// Six times the function's timeout, as Lambda advises for an SQS event source.
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(30)),
		// A tick's message is stale after the next ticks; it still outlives its retries.
		RetentionPeriod: awscdk.Duration_Hours(jsii.Number(2)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{Queue: s.WorkDLQ, MaxReceiveCount: jsii.Number(workReceives)},
	})
}

// addFanOut connects the work queue to collect and lets collect dispatch to it.
func (s *CollectorStack) addFanOut(cfg Config, collectRole awsiam.Role) {
	s.Collect.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.Work, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(1),
		MaxConcurrency:          jsii.Number(float64(cfg.MaxConcurrency)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	s.Work.GrantSendMessages(collectRole)
	collectRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ListConnectors"),
		Actions:   jsii.Strings("secretsmanager:ListSecrets"),
		Resources: jsii.Strings("*"),
	}))
	collectRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ReadConnectors"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
		Resources: &[]*string{s.connectorSecretsArn(cfg)},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(collectRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Connectors are secrets under the stack's prefix, added at run time without a deploy (calmctl connector add): " +
			"the grant is the prefix, so the policy does not grow with the tenants. secretsmanager:ListSecrets supports no resource " +
			"other than \"*\"; it returns names and tags, never values."),
		AppliesTo: &[]any{jsii.String("Resource::*"), jsii.String("Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:" + connectorPrefix(cfg) + "*")},
	}}, jsii.Bool(true))
}

// testconnTagKey is the one tag testconn writes on a connector it creates (internal/fleet.Add's
// calm:connector).
const testconnTagKey = "calm:connector"

// grantConnectorsToTestconn lets testconn read the connector secrets and store a tested key.
func (s *CollectorStack) grantConnectorsToTestconn(cfg Config, role awsiam.Role) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("TestAndSaveConnectors"),
		Actions:   jsii.Strings("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"),
		Resources: &[]*string{s.connectorSecretsArn(cfg)},
	}))
	// POST ?connector=NEW&save=true adds a tenant, tagged calm:connector by internal/fleet.Add
	// and nothing else: the tags collect obeys (calm:interval, calm:monitors) are the operator's.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("AddConnectors"),
		Actions:   jsii.Strings("secretsmanager:CreateSecret", "secretsmanager:TagResource"),
		Resources: &[]*string{s.connectorSecretsArn(cfg)},
		Conditions: &map[string]any{"ForAllValues:StringEquals": map[string]any{
			"aws:TagKeys": []any{testconnTagKey},
		}},
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Connectors are secrets under the stack's prefix, added at run time: the grant is the prefix, so the policy does not grow with the tenants."),
		AppliesTo: &[]any{jsii.String("Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:" + connectorPrefix(cfg) + "*")},
	}}, jsii.Bool(true))
}
