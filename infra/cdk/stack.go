package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Names shared with the Lambda code (see the project's contracts).
const (
	metricNamespace = "CalmCollector"
	archivePrefix   = "records"
	// deadLetterPrefix holds, beside the archive, what a sink refused for good (CALM_DEAD_LETTER).
	deadLetterPrefix = "deadletter"
	// Logical ids that docs/deploy.md and `sam local invoke` refer to; kept
	// stable instead of CDK's hashed ids.
	collectLogicalID  = "CollectFunction"
	testconnLogicalID = "TestconnFunction"
	bucketLogicalID   = "ArchiveBucket"
)

// placeholderTag marks the connector secrets the stack creates with a placeholder
// (internal/fleet.TagPlaceholder).
const placeholderTag = "calm:placeholder"

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
	s.addQuotaAlarm(cfg)
	if cfg.Alerts.Enabled {
		s.Alerts = NewAlerts(stack, "Alerts", AlertsProps{Name: cfg.StackName, Config: cfg.Alerts, Collect: s.Collect, Topic: s.Topic})
	}
	dashboard := s.addDashboard(cfg)
	s.Analytics = NewAnalytics(stack, "Analytics", AnalyticsProps{Name: cfg.StackName, Archive: s.Bucket, Prefix: archivePrefix, Tenants: cfg.Connectors, CollectLogs: s.Collect.LogGroup(), Collect: s.Collect})
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
		// While it holds the placeholder (one version), the tick does not dispatch it
		// (internal/fleet.TagPlaceholder) and the dashboard lists it as not filled in.
		awscdk.Tags_Of(sec).Add(jsii.String(placeholderTag), jsii.String("true"), nil)
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

// addSchedules creates the dead-letter queue, the scheduler's role and one
// schedule per connector.
func (s *CollectorStack) addSchedules(cfg Config) {
	s.DLQ = s.deadLetterQueue("ScheduleDeadLetters", "This queue is itself the dead-letter queue of the EventBridge Scheduler schedules; "+
		"nothing consumes it, an alarm fires on its first message.")

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

// SecretsKeyOutput is the stack output naming the secrets' customer-managed key (calmctl
// connector add reads it by this name).
const SecretsKeyOutput = "SecretsKmsKeyArn" //nolint:gosec // G101: a stack output's name, no credential

// addOutputs prints what the operator needs after `cdk deploy`.
func (s *CollectorStack) addOutputs(cfg Config, d awscloudwatch.Dashboard) {
	out := func(id, desc string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(desc)})
	}
	out("FunctionUrl", "testconn function URL (IAM auth): calmctl test --function-url URL", s.URL.Url())
	out("ConnectorPrefix", "connector secrets are named PREFIX<name>: calmctl connector add|list|remove", jsii.String(connectorPrefix(cfg)))
	if cfg.SecretsKMSKeyArn != "" {
		// calmctl connector add reads it, so that a connector added by hand uses the stack's key.
		out(SecretsKeyOutput, "customer-managed KMS key of the connector secrets (secretsKmsKeyArn): every connector secret is created under it",
			jsii.String(cfg.SecretsKMSKeyArn))
	}
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
