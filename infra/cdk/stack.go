package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Names shared with the Lambda code (see the project's contracts).
const (
	metricNamespace = "CalmCollector"
	archivePrefix   = "records"
	// Logical ids that docs/deploy.md and `sam local invoke` refer to; kept
	// stable instead of CDK's hashed ids.
	collectLogicalID  = "CollectFunction"
	testconnLogicalID = "TestconnFunction"
	bucketLogicalID   = "ArchiveBucket"
)

// placeholderSecret is the SecretString of a newly created connector secret.
// The connection test reports a secret holding "placeholder" as "not filled
// in yet". It holds nothing secret.
func placeholderSecret(connector string) string {
	return fmt.Sprintf(`{"name":%q,"placeholder":"fill in with the BTP service key or connector fields; see README"}`, connector)
}

// CollectorStack is the deployed collector with handles on the parts tests
// and outputs refer to.
type CollectorStack struct {
	Stack   awscdk.Stack
	Secrets map[string]awssecretsmanager.ISecret // by connector
	// SecretsKey is the customer-managed key of the secrets (secretsKmsKeyArn); nil for the
	// AWS-managed key.
	SecretsKey awskms.IKey
	// OTLPHeaders holds the OTLP backend's headers (e.g. Authorization) when a sink is
	// otlp+…; nil otherwise.
	OTLPHeaders awssecretsmanager.Secret
	Table       awsdynamodb.Table
	Bucket      awss3.Bucket // nil when the archive is off
	Collect     awslambda.Function
	Testconn    awslambda.Function
	URL         awslambda.FunctionUrl
	DLQ         awssqs.Queue // the schedule's dead letters
	Topic       awssns.Topic
	Analytics   *Analytics
	Alerts      *Alerts // nil when alerts are off
	// Work is the fan-out queue (one message per tenant due), WorkDLQ its dead letters.
	Work, WorkDLQ awssqs.Queue
	secretStacks  []awscdk.NestedStack
}

// AddChecks applies the cdk-nag AWS Solutions rules to everything in app.
// Their findings are errors: `cdk synth` and `cdk deploy` fail on them.
func AddChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// NewCollectorStack builds the whole stack from a validated Config.
func NewCollectorStack(scope constructs.Construct, cfg Config) *CollectorStack {
	stack := awscdk.NewStack(scope, jsii.String(cfg.StackName), &awscdk.StackProps{
		Description: jsii.String("calm-collector: SAP Cloud ALM monitoring data into AWS (CloudWatch, S3)"),
	})
	s := &CollectorStack{Stack: stack, Secrets: map[string]awssecretsmanager.ISecret{}}

	s.addSecrets(cfg)
	s.addTable()
	if cfg.Archive {
		s.addBucket()
	}
	s.addWorkQueue()
	s.addFunctions(cfg)
	s.addSchedules(cfg)
	s.addAlarms(cfg)
	if cfg.Alerts.Enabled {
		s.Alerts = NewAlerts(stack, "Alerts", AlertsProps{Name: cfg.StackName, Config: cfg.Alerts, Collect: s.Collect, Topic: s.Topic})
	}
	dashboard := s.addDashboard(cfg)
	s.Analytics = NewAnalytics(stack, "Analytics", AnalyticsProps{Name: cfg.StackName, Archive: s.Bucket, Prefix: archivePrefix, Tenants: cfg.Connectors, CollectLogs: s.Collect.LogGroup()})
	s.addOutputs(cfg, dashboard)
	return s
}

// addSecrets creates one placeholder secret per connector, or imports the
// one named in existingSecretArns.
func (s *CollectorStack) addSecrets(cfg Config) {
	if cfg.SecretsKMSKeyArn != "" {
		s.SecretsKey = awskms.Key_FromKeyArn(s.Stack, jsii.String("SecretsKey"), jsii.String(cfg.SecretsKMSKeyArn))
	}
	created := 0
	for _, name := range cfg.Connectors {
		id := "Secret-" + name
		if arn, ok := cfg.ExistingSecrets[name]; ok {
			s.Secrets[name] = awssecretsmanager.Secret_FromSecretCompleteArn(s.Stack, jsii.String(id), jsii.String(arn))
			continue
		}
		scope := s.secretScope(cfg, created)
		created++
		sec := awssecretsmanager.NewSecret(scope, jsii.String(id), &awssecretsmanager.SecretProps{
			// Under the stack's prefix: the functions find it at run time (internal/fleet).
			SecretName:  jsii.String(connectorPrefix(cfg) + name),
			Description: jsii.String(fmt.Sprintf("calm-collector connector %q: the SAP BTP service key of the Cloud ALM API (or the connector fields)", name)),
			// The placeholder says "not filled in yet"; it is no secret.
			SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String(placeholderSecret(name))),
			EncryptionKey:     s.SecretsKey, // nil: the AWS-managed key
			// The filled-in service key outlives `cdk destroy`: a BTP key can
			// take an admin to re-create. Re-attach with existingSecretArns.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		cdknag.NagSuppressions_AddResourceSuppressions(sec, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-SMG4"),
			Reason: jsii.String("The secret holds an SAP BTP XSUAA client secret (service key) that is created and rotated in SAP BTP " +
				"(new binding/service key), not by AWS; a rotation Lambda cannot mint BTP credentials. The operator stores the new key " +
				"with `calmctl test --save` or PutSecretValue."),
		}}, jsii.Bool(true))
		s.Secrets[name] = sec
	}
}

// addOTLPHeaders creates the secret that holds the OTLP backend's headers as a JSON object
// (CALM_OTLP_HEADERS_SECRET); it starts empty: "{}" sends no header.
func (s *CollectorStack) addOTLPHeaders() {
	s.OTLPHeaders = awssecretsmanager.NewSecret(s.Stack, jsii.String("OtlpHeaders"), &awssecretsmanager.SecretProps{
		Description: jsii.String(`calm-collector: headers of the OTLP backend as a JSON object, e.g. {"Authorization":"Api-Token dt0c01…"} (see docs/otlp.md)`),
		// "{}" is no secret: the operator puts the backend's credentials in.
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String("{}")),
		EncryptionKey:     s.SecretsKey,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.OTLPHeaders, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("The secret holds an API token of a third-party observability backend (Grafana Cloud, Datadog, Dynatrace, ...) " +
			"that is issued and rotated in that backend; AWS cannot rotate it. The operator stores a new token with PutSecretValue."),
	}}, jsii.Bool(true))
}

// addTable creates the checkpoint/lease table (contract: pk S, sk S, TTL expiresAt).
func (s *CollectorStack) addTable() {
	s.Table = awsdynamodb.NewTable(s.Stack, jsii.String("StateTable"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String("expiresAt"),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// Checkpoints are what keeps a redeploy from re-collecting (and
		// re-delivering) everything: they outlive the stack.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

// grantSecretsKey lets role use the customer-managed key of the secrets, through Secrets
// Manager only (kms:ViaService). An imported key's policy cannot be changed by the stack, so
// the grant is on the role; the key policy must allow the account's IAM policies (the default).
func (s *CollectorStack) grantSecretsKey(role awsiam.IRole, actions ...string) {
	if s.SecretsKey == nil {
		return
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SecretsKey"),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*s.SecretsKey.KeyArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"kms:ViaService": "secretsmanager." + *s.Stack.Region() + ".amazonaws.com",
		}},
	}))
}

// archiveVersionDays is how long an overwritten archive object stays recoverable.
const archiveVersionDays = 30

// addBucket creates the S3 archive the s3://<bucket>/records sink writes to.
func (s *CollectorStack) addBucket() {
	s.Bucket = awss3.NewBucket(s.Stack, jsii.String("Archive"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// Versioning on: keys are deterministic per window, so a bad run
		// (or a stolen role) overwriting a window would otherwise destroy
		// history. Old versions expire after archiveVersionDays.
		Versioned: jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("old-versions"),
			Enabled:                     jsii.Bool(true),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(archiveVersionDays)),
			ExpiredObjectDeleteMarker:   jsii.Bool(true),
		}, {
			Id:                                  jsii.String("tiering"),
			Enabled:                             jsii.Bool(true),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
			// Objects under 128 KiB stay in Standard (the S3 default
			// TransitionDefaultMinimumObjectSize): IA would bill them as 128 KiB.
			Transitions: &[]*awss3.Transition{
				{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: awscdk.Duration_Days(jsii.Number(30))},
				{StorageClass: awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(), TransitionAfter: awscdk.Duration_Days(jsii.Number(90))},
			},
		}},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	s.Bucket.Node().DefaultChild().(awscdk.CfnResource).OverrideLogicalId(jsii.String(bucketLogicalID))
	cdknag.NagSuppressions_AddResourceSuppressions(s.Bucket, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("Only the collect function's role writes here (PutObject under records/, no read, no delete) and the bucket " +
			"is never public; a second bucket for access logs would cost more than the archive. Enable CloudTrail S3 data events " +
			"for an audit trail if required."),
	}}, jsii.Bool(true))
}

// addFunctions creates collect and testconn with their own roles and log
// groups, and testconn's IAM-authenticated function URL.
func (s *CollectorStack) addFunctions(cfg Config) {
	// CALM_SECRET_IDS names only imported secrets (existingSecretArns), in connector order and
	// built by hand (validated names and ARNs need no JSON escaping) so the template does not
	// change with Go's map order; the created ones are found by prefix at run time, so the
	// environment does not grow with the connectors.
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
	connectorEnv := func(env map[string]string) map[string]string {
		env["CALM_SECRET_ID"] = firstSecret
		env["CALM_CONNECTOR_PREFIX"] = connectorPrefix(cfg)
		env["CALM_MONITORS"] = cfg.Monitors
		if len(pairs) > 0 {
			env["CALM_SECRET_IDS"] = "{" + strings.Join(pairs, ",") + "}"
		}
		return env
	}

	sinks := append([]string(nil), cfg.Sinks...)
	if s.Bucket != nil {
		sinks = append(sinks, "s3://"+*s.Bucket.BucketName()+"/"+archivePrefix)
	}

	collectEnv := connectorEnv(map[string]string{
		"CALM_STATE_TABLE":     *s.Table.TableName(),
		"CALM_SINKS":           strings.Join(sinks, ","),
		"CALM_QUEUE_URL":       *s.Work.QueueUrl(),
		"CALM_SCHEDULE_PERIOD": cfg.SchedulePeriod.String(),
	})
	if slices.ContainsFunc(cfg.Sinks, func(spec string) bool { return strings.HasPrefix(spec, "otlp+") }) {
		s.addOTLPHeaders()
		collectEnv["CALM_OTLP_HEADERS_SECRET"] = *s.OTLPHeaders.SecretArn()
	}

	// collect: one run per schedule per connector.
	collectRole := s.lambdaRole("CollectRole", "calm-collector collect function")
	s.Collect = s.function("Collect", collectLogicalID, cfg, functionSpec{
		dir:         "collect",
		description: "calm-collector: collects SAP Cloud ALM monitoring data (scheduled)",
		memoryMB:    256,
		// 5 minutes: the run stops CALM_DEADLINE_MARGIN (20s) before it and
		// checkpoints; the next scheduled run continues.
		timeout:     awscdk.Duration_Minutes(jsii.Number(5)),
		concurrency: cfg.CollectConcurrency,
		role:        collectRole,
		env:         collectEnv,
	})
	for name := range cfg.ExistingSecrets {
		s.Secrets[name].GrantRead(collectRole, nil)
	}
	s.addFanOut(cfg, collectRole)
	if s.OTLPHeaders != nil {
		s.OTLPHeaders.GrantRead(collectRole, nil)
	}
	s.grantSecretsKey(collectRole, "kms:Decrypt")
	// Exactly the calls internal/state makes (GetItem, Query, PutItem, DeleteItem, and
	// BatchWriteItem for event marks): no Scan, no stream reads, no UpdateItem.
	collectRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("StateTable"),
		Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"),
		Resources: jsii.Strings(*s.Table.TableArn()),
	}))
	if s.Bucket != nil {
		// Own statement instead of Bucket.grantPut, which adds object ACL,
		// tagging and retention actions the sink never uses.
		collectRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ArchivePut"),
			Actions:   jsii.Strings("s3:PutObject", "s3:AbortMultipartUpload"),
			Resources: jsii.Strings(*s.Bucket.ArnForObjects(jsii.String(archivePrefix + "/*"))),
		}))
		cdknag.NagSuppressions_AddResourceSuppressions(collectRole, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("The S3 sink writes one object per tenant/monitor/window under records/ " +
				"(records/tenant=T/monitor=M/dt=D/hour=H/FROM-TO.ndjson.gz); the keys are not known in advance, so the grant is the prefix."),
			AppliesTo: &[]any{jsii.String("Resource::<" + bucketLogicalID + ".Arn>/" + archivePrefix + "/*")},
		}}, jsii.Bool(true))
	}

	// testconn: the connection test behind an IAM-authenticated URL.
	testconnRole := s.lambdaRole("TestconnRole", "calm-collector testconn function")
	s.Testconn = s.function("Testconn", testconnLogicalID, cfg, functionSpec{
		dir:         "testconn",
		description: "calm-collector: tests a Cloud ALM connector (function URL, IAM auth)",
		memoryMB:    128,
		timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		concurrency: cfg.TestconnConcurrency,
		role:        testconnRole,
		env:         connectorEnv(map[string]string{}),
	})
	s.grantSecretsKey(testconnRole, "kms:Decrypt", "kms:GenerateDataKey")
	// POST ?save=true stores a tested service key: PutSecretValue (and CreateSecret for a new
	// name under the prefix), no UpdateSecret (which could change the key or description).
	s.grantConnectorsToTestconn(cfg, testconnRole)
	var arns []*string
	for _, name := range cfg.Connectors {
		if _, ok := cfg.ExistingSecrets[name]; ok {
			s.Secrets[name].GrantRead(testconnRole, nil)
			arns = append(arns, s.Secrets[name].SecretArn())
		}
	}
	if len(arns) > 0 {
		testconnRole.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
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

// addSchedules creates the dead-letter queue, the scheduler's role and one
// schedule per connector.
func (s *CollectorStack) addSchedules(cfg Config) {
	s.DLQ = awssqs.NewQueue(s.Stack, jsii.String("ScheduleDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.DLQ, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter queue of the EventBridge Scheduler schedules; " +
			"nothing consumes it, an alarm fires on its first message."),
	}}, jsii.Bool(true))

	role := awsiam.NewRole(s.Stack, jsii.String("SchedulerRole"), &awsiam.RoleProps{
		Description: jsii.String("calm-collector: EventBridge Scheduler invokes collect"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvokeCollect"),
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{s.Collect.FunctionArn()},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DeadLetter"),
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{s.DLQ.QueueArn()},
	}))

	// One schedule for the whole fleet: each tick dispatches the tenants due (addFanOut).
	sched := awsscheduler.NewCfnSchedule(s.Stack, jsii.String("Schedule"), &awsscheduler.CfnScheduleProps{
		Description:        jsii.String("calm-collector: hand out the tenants due to the work queue"),
		ScheduleExpression: jsii.String(cfg.Schedule),
		State:              jsii.String("ENABLED"),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     s.Collect.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(`{"dispatch":true}`),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts: jsii.Number(2),
				// A tick older than one 5-minute period is pointless: the next
				// one dispatches the same tenants.
				MaximumEventAgeInSeconds: jsii.Number(300),
			},
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: s.DLQ.QueueArn()},
		},
	})
	// The role's policy must be in place before the first invocation.
	sched.Node().AddDependency(role)
}

// addAlarms creates the alarm topic (KMS-encrypted with a key CloudWatch may
// use) and the alarms.
func (s *CollectorStack) addAlarms(cfg Config) {
	// Not alias/aws/sns: CloudWatch alarms cannot publish to a topic
	// encrypted with that AWS managed key (its key policy cannot be changed).
	key := awskms.NewKey(s.Stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("calm-collector: encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	sourceAccount := &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}}
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy "*" means this key
		Conditions: sourceAccount,
	}), nil)

	s.Topic = awssns.NewTopic(s.Stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("calm-collector alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	s.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{s.Topic.TopicArn()},
		Conditions: sourceAccount,
	}))
	if cfg.AlarmEmail != "" {
		s.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	action := awscloudwatchactions.NewSnsAction(s.Topic)
	alarm := func(id string, props *awscloudwatch.AlarmProps) {
		a := awscloudwatch.NewAlarm(s.Stack, jsii.String(id), props)
		a.AddAlarmAction(action)
		a.AddOkAction(action)
	}

	period := awscdk.Duration_Seconds(jsii.Number(cfg.SchedulePeriod.Seconds()))
	// Alarms over the fleet, not per tenant (docs/deploy.md, "Alarms"): their number does not
	// grow with the connectors. Which tenant: the Logs Insights query "Failed runs by tenant".
	fleet := func(metricName, stat string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metricNamespace), MetricName: jsii.String(metricName),
			Statistic: jsii.String(stat), Period: period,
		})
	}
	alarm("Errors", &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("calm-collector: collection runs reported errors (which tenants: the collect function's logs, field tenant)"),
		Metric:             fleet("Errors", "Sum"),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm("NoSuccess", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("calm-collector: no successful collection run of any tenant for 3 schedule periods " +
			"(no data counts: the schedule, the dispatch or the function may be broken)"),
		Metric:             fleet("RunSuccess", "Sum"),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(3),
		ComparisonOperator: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	// The worst tenant's lag: every run also writes MaxLagSeconds without a dimension, so its
	// Maximum is the fleet's worst at the price of one metric (a Metrics Insights alarm would be
	// billed per tenant analysed). The dashboard's "Lag by tenant" names the tenant.
	alarm("WorstLag", &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("calm-collector: the most lagging tenant is more than %d s behind "+
			"(the dashboard's \"Lag by tenant\" names it)", cfg.LagAlarmSeconds)),
		Metric:             fleet("MaxLagSeconds", "Maximum"),
		Threshold:          jsii.Number(float64(cfg.LagAlarmSeconds)),
		EvaluationPeriods:  jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm("WorkDeadLettersAlarm", &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("calm-collector: a tenant's collection failed twice in a row (its message is in the work dead-letter queue; the body names the connector)"),
		Metric:             s.WorkDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}),
		Threshold:          jsii.Number(0),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm("DeadLetters", &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("calm-collector: EventBridge Scheduler could not invoke collect for a tick (message in the schedule's dead-letter queue)"),
		Metric:             s.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")}),
		Threshold:          jsii.Number(0),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm("CollectFunctionErrors", &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("calm-collector: the collect function failed (crash, timeout or bad settings at cold start)"),
		Metric:             s.Collect.MetricErrors(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// addDashboard shows the fleet through SEARCH and Metrics Insights
// expressions, so new monitors and tenants appear without a redeploy.
func (s *CollectorStack) addDashboard(cfg Config) awscloudwatch.Dashboard {
	p := int(cfg.SchedulePeriod.Seconds())
	if p < 300 {
		p = 300
	}
	period := awscdk.Duration_Seconds(jsii.Number(float64(p)))
	search := func(dims, metricName, stat, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			//nolint:gocritic // sprintfQuotedString: CloudWatch SEARCH syntax, not Go quoting
			Expression:   jsii.String(fmt.Sprintf(`SEARCH('{%s} MetricName="%s"', '%s', %d)`, strings.TrimSuffix(metricNamespace+","+dims, ","), metricName, stat, p)),
			Label:        jsii.String(label),
			Period:       period,
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
		})
	}
	graph := func(title string, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Right: &right, Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}
	lagLine := &awscloudwatch.HorizontalAnnotation{Value: jsii.Number(float64(cfg.LagAlarmSeconds)), Label: jsii.String("lag alarm")}

	d := awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(cfg.StackName),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
	})
	// Every tenant without a widget per tenant: the 20 most lagging, by a Metrics Insights
	// query over the one per-tenant metric.
	tenants := awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Lag by tenant, worst 20 (s)"),
		Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String(`SELECT MAX(MaxLagSeconds) FROM SCHEMA("CalmCollector", tenant) GROUP BY tenant ORDER BY MAX() DESC LIMIT 20`),
			Period:       period,
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
		})},
		LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{lagLine},
		Width:           jsii.Number(24),
		Height:          jsii.Number(6),
		LeftYAxis:       &awscloudwatch.YAxisProps{Min: jsii.Number(0)},
		LegendPosition:  awscloudwatch.LegendPosition_RIGHT,
	})
	lag := awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title:           jsii.String("Lag per monitor, worst tenant (s)"),
		Left:            &[]awscloudwatch.IMetric{search("monitor", "LagSeconds", "Maximum", "")},
		LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{lagLine},
		Width:           jsii.Number(12),
		Height:          jsii.Number(6),
		LeftYAxis:       &awscloudwatch.YAxisProps{Min: jsii.Number(0)},
		LegendPosition:  awscloudwatch.LegendPosition_RIGHT,
	})
	d.AddWidgets(tenants)
	d.AddWidgets(
		graph("Runs and failures",
			[]awscloudwatch.IMetric{search("", "RunSuccess", "Sum", "ok runs"), search("", "Errors", "Sum", "errors")},
			[]awscloudwatch.IMetric{s.Collect.MetricInvocations(nil), s.Collect.MetricErrors(nil)}),
		graph("Points per monitor",
			[]awscloudwatch.IMetric{search("monitor", "Points", "Sum", "")}, nil),
	)
	d.AddWidgets(
		lag,
		graph("API requests, retries and 429s",
			[]awscloudwatch.IMetric{
				search("monitor", "Requests", "Sum", "requests"),
				search("monitor", "Retries", "Sum", "retries"),
				search("monitor", "Throttled", "Sum", "429s"),
			}, nil),
	)
	d.AddWidgets(
		graph("Run duration (ms)",
			[]awscloudwatch.IMetric{search("", "RunDuration", "Maximum", "max"), search("", "RunDuration", "Average", "avg")},
			[]awscloudwatch.IMetric{s.Collect.MetricDuration(nil)}),
		graph("Dead letters (schedule, work) and function errors",
			[]awscloudwatch.IMetric{s.DLQ.MetricApproximateNumberOfMessagesVisible(nil), s.WorkDLQ.MetricApproximateNumberOfMessagesVisible(nil)},
			[]awscloudwatch.IMetric{s.Collect.MetricErrors(nil), s.Testconn.MetricErrors(nil)}),
	)
	return d
}

// addOutputs prints what the operator needs after `cdk deploy`.
func (s *CollectorStack) addOutputs(cfg Config, d awscloudwatch.Dashboard) {
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("FunctionUrl", "testconn function URL (IAM auth): calmctl test --function-url URL", s.URL.Url())
	out("ConnectorPrefix", "connector secrets are named PREFIX<name>: calmctl connector add|list|remove", jsii.String(connectorPrefix(cfg)))
	if s.OTLPHeaders != nil {
		out("OtlpHeadersSecretArn", "headers of the OTLP backend: put a JSON object of headers here", s.OTLPHeaders.SecretArn())
	}
	out("StateTableName", "DynamoDB checkpoint table", s.Table.TableName())
	if s.Bucket != nil {
		out("ArchiveBucketName", "S3 archive (records under records/)", s.Bucket.BucketName())
	}
	out("CollectFunctionName", "collect function (aws lambda invoke ... for a backfill)", s.Collect.FunctionName())
	out("AlarmTopicArn", "SNS topic of the alarms: subscribe to it", s.Topic.TopicArn())
	out("DashboardName", "CloudWatch dashboard", d.DashboardName())
	out("DashboardUrl", "CloudWatch dashboard", jsii.String(fmt.Sprintf(
		"https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s",
		*awscdk.Aws_REGION(), *awscdk.Aws_REGION(), cfg.StackName)))
}

// outputID turns a connector name into an alphanumeric CloudFormation
// output id part: "prod-eu10" -> "ProdEu10".
func outputID(name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
