// Command cdk is the AWS CDK app that deploys calm-collector: one Secrets
// Manager secret per connector, the DynamoDB state table, an optional S3
// archive, the collect and testconn Lambda functions, one EventBridge
// Scheduler schedule per connector, alarms into an SNS topic and a CloudWatch
// dashboard.
//
// It owns the stack's shape and nothing else: it imports nothing from
// internal/, and talks to the Lambda code only through the environment
// variables, inputs and metric names agreed in the project's contracts.
//
// Settings come from CDK context (cdk.json, or -c key=value on the CLI) and
// are parsed and validated in one place, [ConfigFromContext]. Synthesize
// offline with
//
//	CDK_OUTDIR=cdk.out go run ./infra/cdk
package main
