package main

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// addFunctions creates collect and testconn with their own roles and log
// groups, and testconn's IAM-authenticated function URL.
func (s *CollectorStack) addFunctions(cfg Config) {
	s.addCollect(cfg)
	s.addTestconn(cfg)
}

// connectorEnv is the part of the environment both functions share: which connectors there are.
// CALM_SECRET_IDS names only imported secrets (existingSecretArns), in connector order and
// built by hand (validated names and ARNs need no JSON escaping) so the template does not
// change with Go's map order; the created ones are found by prefix at run time, so the
// environment does not grow with the connectors.
func connectorEnv(cfg Config) map[string]string {
	var pairs []string
	for _, name := range cfg.Connectors {
		if arn, ok := cfg.ExistingSecrets[name]; ok {
			pairs = append(pairs, `"`+name+`":"`+arn+`"`)
		}
	}
	first := cfg.Connectors[0]
	firstSecret := connectorPrefix(cfg) + first
	if arn, ok := cfg.ExistingSecrets[first]; ok {
		firstSecret = arn
	}
	env := map[string]string{
		"CALM_SECRET_ID":        firstSecret,
		"CALM_CONNECTOR_PREFIX": connectorPrefix(cfg),
		"CALM_MONITORS":         cfg.Monitors,
		"CALM_API_QUOTA_GB":     quotaEnv(cfg),
	}
	if len(pairs) > 0 {
		env["CALM_SECRET_IDS"] = "{" + strings.Join(pairs, ",") + "}"
	}
	if cfg.ExtraMonitors != "" {
		env["CALM_EXTRA_MONITORS"] = cfg.ExtraMonitors
	}
	return env
}

// collectEnv is the collect function's environment; with an OTLP sink it also creates the
// OTLP headers secret the function reads.
func (s *CollectorStack) collectEnv(cfg Config) map[string]string {
	sinks := append([]string(nil), cfg.Sinks...)
	if s.Bucket != nil {
		sinks = append(sinks, "s3://"+*s.Bucket.BucketName()+"/"+archivePrefix)
	}
	env := connectorEnv(cfg)
	if s.Bucket != nil {
		env["CALM_DEAD_LETTER"] = "s3://" + *s.Bucket.BucketName() + "/" + deadLetterPrefix
	}
	env["CALM_STATE_TABLE"] = *s.Table.TableName()
	env["CALM_SINKS"] = strings.Join(sinks, ",")
	env["CALM_QUEUE_URL"] = *s.Work.QueueUrl()
	env["CALM_SCHEDULE_PERIOD"] = cfg.SchedulePeriod.String()
	if slices.ContainsFunc(cfg.Sinks, func(spec string) bool { return strings.HasPrefix(spec, "otlp+") }) {
		s.addOTLPHeaders()
		env["CALM_OTLP_HEADERS_SECRET"] = *s.OTLPHeaders.SecretArn()
	}
	return env
}

// addCollect creates the collect function, fed by the schedule's dispatch and the work queue,
// with exactly the grants it uses.
func (s *CollectorStack) addCollect(cfg Config) {
	env := s.collectEnv(cfg)
	role := s.lambdaRole("CollectRole", "calm-collector collect function")
	s.Collect = s.function("Collect", collectLogicalID, cfg, functionSpec{
		dir:         "collect",
		description: "calm-collector: collects SAP Cloud ALM monitoring data (scheduled)",
		memoryMB:    256,
		// 5 minutes: the run stops CALM_DEADLINE_MARGIN (20s) before it and
		// checkpoints; the next scheduled run continues.
		timeout:     awscdk.Duration_Minutes(jsii.Number(5)),
		concurrency: cfg.CollectConcurrency,
		role:        role,
		env:         env,
	})
	for name := range cfg.ExistingSecrets {
		s.Secrets[name].GrantRead(role, nil)
	}
	s.addFanOut(cfg, role)
	if s.OTLPHeaders != nil {
		s.OTLPHeaders.GrantRead(role, nil)
	}
	s.grantSecretsKey(role, "kms:Decrypt")
	// Exactly the calls internal/state makes (GetItem, Query, PutItem, DeleteItem, and
	// BatchWriteItem for event marks): no Scan, no stream reads, no UpdateItem.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("StateTable"),
		Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
		Resources: jsii.Strings(*s.Table.TableArn()),
	}))
	if s.Bucket != nil {
		s.grantArchivePut(role)
	}
}

// grantArchivePut lets role put archive objects under records/ and dead letters under
// deadletter/: its own statement instead of
// Bucket.grantPut, which adds object ACL, tagging and retention actions the sink never uses.
func (s *CollectorStack) grantArchivePut(role awsiam.Role) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("ArchivePut"),
		Actions:   jsii.Strings("s3:PutObject", "s3:AbortMultipartUpload"),
		Resources: jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(archivePrefix + "/*")), *s.Bucket.ArnForObjects(jsii.String(deadLetterPrefix + "/*"))),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The S3 sink writes one object per tenant/monitor/window under records/ " +
			"(records/tenant=T/monitor=M/dt=D/hour=H/FROM-TO.ndjson.gz), and what a sink refused for good under deadletter/; " +
			"the keys are not known in advance, so the grant is the prefix."),
		AppliesTo: &[]any{jsii.String("Resource::<" + bucketLogicalID + ".Arn>/" + archivePrefix + "/*"),
			jsii.String("Resource::<" + bucketLogicalID + ".Arn>/" + deadLetterPrefix + "/*")},
	}}, jsii.Bool(true))
}

// testconnEnv is the testconn function's environment: the connectors, and the secrets' customer
// key (CALM_SECRETS_KMS_KEY) when one is set, so that a connector saved at run time
// (?connector=NEW&save=true) is created under it like the stack's own secrets.
func (s *CollectorStack) testconnEnv(cfg Config) map[string]string {
	env := connectorEnv(cfg)
	if cfg.SecretsKMSKeyArn != "" {
		env["CALM_SECRETS_KMS_KEY"] = cfg.SecretsKMSKeyArn
	}
	return env
}

// addTestconn creates the connection test behind an IAM-authenticated function URL; it may
// store a tested service key.
func (s *CollectorStack) addTestconn(cfg Config) {
	role := s.lambdaRole("TestconnRole", "calm-collector testconn function")
	s.Testconn = s.function("Testconn", testconnLogicalID, cfg, functionSpec{
		dir:         "testconn",
		description: "calm-collector: tests a Cloud ALM connector (function URL, IAM auth)",
		memoryMB:    128,
		timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		concurrency: cfg.TestconnConcurrency,
		role:        role,
		env:         s.testconnEnv(cfg),
	})
	s.grantSecretsKey(role, "kms:Decrypt", "kms:GenerateDataKey")
	// POST ?save=true stores a tested service key: PutSecretValue (and CreateSecret for a new
	// name under the prefix), no UpdateSecret (which could change the key or description).
	s.grantConnectorsToTestconn(cfg, role)
	var arns []*string
	for _, name := range cfg.Connectors {
		if _, ok := cfg.ExistingSecrets[name]; ok {
			s.Secrets[name].GrantRead(role, nil)
			arns = append(arns, s.Secrets[name].SecretArn())
		}
	}
	if len(arns) > 0 {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SaveTestedSecret"),
			Actions:   jsii.Strings("secretsmanager:PutSecretValue"),
			Resources: &arns,
		}))
	}
	s.URL = s.Testconn.AddFunctionUrl(&awslambda.FunctionUrlOptions{
		AuthType:   awslambda.FunctionUrlAuthType_AWS_IAM,
		InvokeMode: awslambda.InvokeMode_BUFFERED,
	})
}

// functionSpec is what differs between the two functions.
type functionSpec struct {
	dir, description string
	memoryMB         float64
	timeout          awscdk.Duration
	concurrency      int
	role             awsiam.Role
	env              map[string]string
}

// lambdaRole is a function role without the AWSLambdaBasicExecutionRole
// managed policy (whose logs:* on "*" nag rightly flags): the function's own
// log group is granted instead.
func (s *CollectorStack) lambdaRole(id, description string) awsiam.Role {
	return awsiam.NewRole(s.Stack, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
}

// function creates a Lambda function from a built bootstrap with its own log group (retention
// logRetentionDays), JSON logs and a fixed logical id.
func (s *CollectorStack) function(id, logicalID string, cfg Config, spec functionSpec) awslambda.Function {
	logs := awslogs.NewLogGroup(s.Stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention: retention(cfg.LogRetentionDays),
	})
	logs.GrantWrite(spec.role)

	env := map[string]*string{}
	for k, v := range spec.env {
		env[k] = jsii.String(v)
	}
	props := &awslambda.FunctionProps{
		Description:   jsii.String(spec.description),
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.BootstrapDir, spec.dir)), nil),
		MemorySize:    jsii.Number(spec.memoryMB),
		Timeout:       spec.timeout,
		Role:          spec.role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
		Environment:   &env,
		// A failed scheduled run is not retried by Lambda: the next run
		// resumes from the checkpoint, and a retry would only compete for
		// the lease.
		RetryAttempts: jsii.Number(0),
	}
	if spec.concurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(float64(spec.concurrency))
	}
	fn := awslambda.NewFunction(s.Stack, jsii.String(id), props)
	fn.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(logicalID))
	// The role's policy must exist before the function first runs.
	fn.Node().AddDependency(spec.role)
	return fn
}

// retention maps validated days to the CDK enum.
func retention(days int) awslogs.RetentionDays {
	return map[int]awslogs.RetentionDays{
		1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
		7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
		60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
		150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
		400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
		1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
		2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
		3653: awslogs.RetentionDays_TEN_YEARS,
	}[days]
}
