package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

func TestMain(m *testing.M) {
	// Before anything touches jsii: the Node 20 banner and CLI telemetry.
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	os.Setenv("CDK_DISABLE_CLI_TELEMETRY", "true")
	dir, err := os.MkdirTemp("", "calm-cdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tempRoot = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tempRoot holds what outlives one test: the dummy bootstraps and the
// shared default stack's assembly. TestMain removes it.
var tempRoot string

func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(tempRoot, "out-")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// bootstrapDir holds dummy collect/bootstrap and testconn/bootstrap files:
// Code_FromAsset panics on a missing directory.
var bootstrapDir = sync.OnceValue(func() string {
	dir := filepath.Join(tempRoot, "bootstrap")
	for _, fn := range []string{"collect", "testconn"} {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			panic(err)
		}
	}
	return dir
})

// synthesized is one app with the stack built from context ctx (plus the
// dummy bootstrapDir), cdk-nag applied.
type synthesized struct {
	app      awscdk.App
	stack    *CollectorStack
	template assertions.Template
	json     map[string]any
}

func synth(t *testing.T, ctx map[string]any) *synthesized {
	t.Helper()
	return synthWith(t, ctx, nil)
}

// synthWith lets a test change the stack before it is synthesized.
func synthWith(t *testing.T, ctx map[string]any, change func(*CollectorStack)) *synthesized {
	t.Helper()
	all := map[string]any{keyBootstrapDir: bootstrapDir()}
	for k, v := range ctx {
		all[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &all, Outdir: jsii.String(tempDir(t))})
	cfg, err := ConfigFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s := NewCollectorStack(app, cfg)
	if change != nil {
		change(s)
	}
	AddChecks(app)
	out := &synthesized{app: app, stack: s}
	check(t, "synthesize", func() {
		out.template = assertions.Template_FromStack(s.Stack, nil)
		out.json = *out.template.ToJSON()
	})
	if out.json == nil {
		t.FailNow()
	}
	return out
}

// defaultStack is synthesized once: most tests only read it.
var (
	defaultOnce  sync.Once
	defaultSynth *synthesized
)

func defaults(t *testing.T) *synthesized {
	t.Helper()
	defaultOnce.Do(func() { defaultSynth = synth(t, nil) })
	if defaultSynth == nil {
		t.Fatal("default stack did not synthesize")
	}
	return defaultSynth
}

// check runs an assertions call, which panics on a mismatch, and turns the
// panic into a test error.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func obj(m map[string]any) *map[string]any { return &m }

// resources returns the template's resources of one type, by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == typ {
			out[id] = r
		}
	}
	return out
}

func (s *synthesized) logicalID(t *testing.T, typ, prefix string) string {
	t.Helper()
	for id := range s.resources(typ) {
		if strings.HasPrefix(id, prefix) {
			return id
		}
	}
	t.Fatalf("no %s named %s*", typ, prefix)
	return ""
}

func ref(id string) map[string]any       { return map[string]any{"Ref": id} }
func getAtt(id, a string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, a}} }

func TestSecretPerConnectorWithPlaceholder(t *testing.T) {
	s := synth(t, map[string]any{keyConnectors: []any{"prod-eu10", "test-eu10"}})
	check(t, "two secrets", func() { s.template.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(2)) })
	for _, name := range []string{"prod-eu10", "test-eu10"} {
		check(t, "placeholder "+name, func() {
			s.template.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{
				"SecretString": `{"name":"` + name + `","placeholder":"fill in with the BTP service key or connector fields; see README"}`,
			}))
		})
	}
	check(t, "secrets outlive the stack", func() {
		s.template.AllResources(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{"DeletionPolicy": "Retain"}))
	})
	var ph map[string]string
	if err := json.Unmarshal([]byte(placeholderSecret("x")), &ph); err != nil || ph["name"] != "x" || ph["placeholder"] == "" {
		t.Errorf("placeholder is not the agreed JSON: %v %v", ph, err)
	}
}

// secretsKmsKeyArn encrypts every secret the stack creates with the customer's key, and the
// functions that read them may decrypt with it through Secrets Manager only.
func TestSecretsCustomerManagedKey(t *testing.T) {
	const key = "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	s := synth(t, map[string]any{keySecretsKMSKeyArn: key, keySinks: []any{"stdout", "otlp+https://otlp.example.com"}})
	check(t, "every secret uses the key", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{"KmsKeyId": key}))
	})
	check(t, "two secrets", func() { s.template.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(2)) })
	for _, role := range []string{"CollectRole", "TestconnRole"} {
		found := false
		for _, st := range s.policyStatements(t, role) {
			m, _ := st.(map[string]any)
			b, _ := json.Marshal(m)
			if strings.Contains(string(b), `"kms:Decrypt"`) && strings.Contains(string(b), key) &&
				strings.Contains(string(b), "kms:ViaService") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s may not decrypt the secrets with %s through Secrets Manager: %v", role, key, s.policyStatements(t, role))
		}
	}
	check(t, "testconn creates connectors under the key", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
				"CALM_SECRETS_KMS_KEY": key, "CALM_CONNECTOR_PREFIX": "calm-collector/CalmCollector/connectors/",
			}))},
		}))
	})
	check(t, "calmctl connector add reads the key from the stack's outputs", func() {
		s.template.HasOutput(jsii.String(SecretsKeyOutput), obj(map[string]any{"Value": key}))
	})
	if SecretsKeyOutput != "SecretsKmsKeyArn" {
		t.Errorf("output %q: calmctl connector add reads SecretsKmsKeyArn", SecretsKeyOutput)
	}
	d := defaults(t)
	check(t, "default: the AWS-managed key", func() {
		d.template.AllResourcesProperties(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{"KmsKeyId": assertions.Match_Absent()}))
		d.template.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{"CALM_SECRETS_KMS_KEY": assertions.Match_Absent()}))},
		}))
	})
}

func TestExistingSecretIsImportedNotCreated(t *testing.T) {
	arn := "arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/prod-AbC123"
	s := synth(t, map[string]any{
		keyConnectors:         []any{"prod", "test"},
		keyExistingSecretArns: map[string]any{"prod": arn},
	})
	check(t, "one new secret", func() { s.template.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(1)) })
	check(t, "the created one is named under the prefix", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{
			"Name": "calm-collector/CalmCollector/connectors/test",
		}))
	})
	check(t, "collect env names only the imported secret", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
				"CALM_SECRET_ID":        arn, // the first connector
				"CALM_SECRET_IDS":       `{"prod":"` + arn + `"}`,
				"CALM_CONNECTOR_PREFIX": "calm-collector/CalmCollector/connectors/",
			}))},
		}))
	})
	check(t, "collect reads the imported secret by its exact ARN", func() {
		s.template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), obj(map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Action": []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, "Effect": "Allow", "Resource": arn,
			}})},
		}))
	})
}

func TestStateTable(t *testing.T) {
	s := defaults(t)
	check(t, "table", func() {
		s.template.HasResource(jsii.String("AWS::DynamoDB::Table"), obj(map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
				"AttributeDefinitions":             []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}, map[string]any{"AttributeName": "sk", "AttributeType": "S"}},
				"BillingMode":                      "PAY_PER_REQUEST",
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"TimeToLiveSpecification":          map[string]any{"AttributeName": "expiresAt", "Enabled": true},
				"SSESpecification":                 map[string]any{"SSEEnabled": true},
			},
		}))
	})
}

func TestArchiveBucket(t *testing.T) {
	s := defaults(t)
	check(t, "bucket", func() {
		s.template.HasResource(jsii.String("AWS::S3::Bucket"), obj(map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": map[string]any{
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
					map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
				}},
				"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
				"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
					"Id": "old-versions", "Status": "Enabled", "ExpiredObjectDeleteMarker": true,
					"NoncurrentVersionExpiration": map[string]any{"NoncurrentDays": archiveVersionDays},
				}, map[string]any{
					"Id": "tiering", "Status": "Enabled",
					"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1},
					"Transitions": []any{
						map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
						map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
					},
				}}},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			},
		}))
	})
	check(t, "bucket policy denies plain HTTP", func() {
		s.template.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), obj(map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
				"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			}))})},
		}))
	})
	check(t, "CALM_SINKS has the archive", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
				"CALM_SINKS":       map[string]any{"Fn::Join": []any{"", []any{"stdout,s3://", ref(bucketLogicalID), "/records"}}},
				"CALM_DEAD_LETTER": map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(bucketLogicalID), "/deadletter"}}},
			}))},
		}))
	})
}

func TestArchiveOff(t *testing.T) {
	s := synth(t, map[string]any{keyArchive: "false", keySinks: "stdout,otlp+https://otel.example.com"})
	check(t, "no bucket", func() { s.template.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(0)) })
	check(t, "sinks", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Handler": "bootstrap",
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
				"CALM_SINKS": "stdout,otlp+https://otel.example.com",
			}))},
		}))
	})
	if _, ok := s.json["Outputs"].(map[string]any)["ArchiveBucketName"]; ok {
		t.Error("ArchiveBucketName output without an archive")
	}
}

// An OTLP sink gets a headers secret (starting as "{}"), named to collect in
// CALM_OTLP_HEADERS_SECRET and readable by collect only; without one there is none.
func TestOTLPHeadersSecret(t *testing.T) {
	s := synth(t, map[string]any{keySinks: "stdout,otlp+https://otel.example.com"})
	headers := s.logicalID(t, "AWS::SecretsManager::Secret", "OtlpHeaders")
	check(t, "secret", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{"SecretString": "{}"}))
	})
	check(t, "collect env", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{
				"CALM_OTLP_HEADERS_SECRET": ref(headers),
			}))},
		}))
	})
	readsHeaders := func(stmts []any) bool {
		for _, st := range stmts {
			b, _ := json.Marshal(st)
			if strings.Contains(string(b), headers) {
				return true
			}
		}
		return false
	}
	if !readsHeaders(s.policyStatements(t, "CollectRole")) {
		t.Error("collect cannot read the OTLP headers secret")
	}
	if readsHeaders(s.policyStatements(t, "TestconnRole")) {
		t.Error("testconn can read the OTLP headers secret")
	}
	if _, ok := s.json["Outputs"].(map[string]any)["OtlpHeadersSecretArn"]; !ok {
		t.Error("no OtlpHeadersSecretArn output")
	}
	d := defaults(t)
	check(t, "none without an OTLP sink", func() {
		d.template.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(1))
	})
}

func TestFunctions(t *testing.T) {
	s := defaults(t)
	const prefix = "calm-collector/CalmCollector/connectors/"
	table := s.logicalID(t, "AWS::DynamoDB::Table", "StateTable")
	common := func(logs string, memory, timeout int, env map[string]any) map[string]any {
		return map[string]any{
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"Architectures": []any{"arm64"},
			"MemorySize":    memory,
			"Timeout":       timeout,
			"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": ref(s.logicalID(t, "AWS::Logs::LogGroup", logs))},
			"Environment":   map[string]any{"Variables": env},
		}
	}
	// No secret ARN in either environment: connectors are found by prefix.
	check(t, "collect", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(common("CollectLogs", 256, 300, map[string]any{
			"CALM_SECRET_ID":        prefix + "default",
			"CALM_CONNECTOR_PREFIX": prefix,
			"CALM_STATE_TABLE":      ref(table),
			"CALM_SINKS":            map[string]any{"Fn::Join": []any{"", []any{"stdout,s3://", ref(bucketLogicalID), "/records"}}},
			"CALM_DEAD_LETTER":      map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(bucketLogicalID), "/deadletter"}}},
			"CALM_MONITORS":         "auto",
			"CALM_QUEUE_URL":        ref(s.logicalID(t, "AWS::SQS::Queue", "WorkBF")),
			"CALM_SCHEDULE_PERIOD":  "5m0s",
		})))
	})
	check(t, "testconn", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(common("TestconnLogs", 128, 30, map[string]any{
			"CALM_SECRET_ID":        prefix + "default",
			"CALM_CONNECTOR_PREFIX": prefix,
			"CALM_MONITORS":         "auto",
		})))
	})
	check(t, "collect is not retried by Lambda", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), obj(map[string]any{
			"FunctionName": ref(collectLogicalID), "MaximumRetryAttempts": 0, "Qualifier": "$LATEST",
		}))
	})
	check(t, "no reserved concurrency by default", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"ReservedConcurrentExecutions": assertions.Match_Absent(),
		}))
	})
}

func TestReservedConcurrencyAndMonitors(t *testing.T) {
	s := synth(t, map[string]any{keyCollectConcurrency: 2, keyMonitors: []any{"hm", "status"}})
	check(t, "collect reserved", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"MemorySize": 256, "ReservedConcurrentExecutions": 2,
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(obj(map[string]any{"CALM_MONITORS": "hm,status"}))},
		}))
	})
	check(t, "testconn unreserved", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"MemorySize": 128, "ReservedConcurrentExecutions": assertions.Match_Absent(),
		}))
	})
}

func TestLogGroupsHaveRetention(t *testing.T) {
	check(t, "default 30 days", func() {
		defaults(t).template.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), obj(map[string]any{"RetentionInDays": 30}))
	})
	s := synth(t, map[string]any{keyLogRetentionDays: "90"})
	check(t, "90 days from -c", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(2))
		s.template.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), obj(map[string]any{"RetentionInDays": 90}))
	})
}

// One schedule for the whole fleet, whatever the connectors: its tick dispatches the tenants due
// to the work queue, which feeds collect one message at a time, maxConcurrency at once.
func TestOneScheduleAndTheWorkQueue(t *testing.T) {
	s := synth(t, map[string]any{keyConnectors: []any{"prod", "test"}, keySchedule: "rate(10 minutes)", keyMaxConcurrency: 7})
	check(t, "one schedule", func() { s.template.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(1)) })
	dlq := s.logicalID(t, "AWS::SQS::Queue", "ScheduleDeadLetters")
	role := s.logicalID(t, "AWS::IAM::Role", "SchedulerRole")
	check(t, "the schedule dispatches", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), obj(map[string]any{
			"ScheduleExpression": "rate(10 minutes)",
			"State":              "ENABLED",
			"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
			"Target": map[string]any{
				"Arn":              getAtt(collectLogicalID, "Arn"),
				"RoleArn":          getAtt(role, "Arn"),
				"Input":            `{"dispatch":true}`,
				"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 300},
				"DeadLetterConfig": map[string]any{"Arn": getAtt(dlq, "Arn")},
			},
		}))
	})
	workDLQ := s.logicalID(t, "AWS::SQS::Queue", "WorkDeadLetters")
	check(t, "work queue dead-letters after two receives", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), obj(map[string]any{
			"VisibilityTimeout": 1800,
			"RedrivePolicy":     map[string]any{"deadLetterTargetArn": getAtt(workDLQ, "Arn"), "maxReceiveCount": 2},
		}))
	})
	check(t, "event-source mapping: one message per invocation, bounded, partial failures", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), obj(map[string]any{
			"FunctionName":          ref(collectLogicalID),
			"BatchSize":             1,
			"ScalingConfig":         map[string]any{"MaximumConcurrency": 7},
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		}))
	})
	check(t, "alarms use the schedule period", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"MetricName": "RunSuccess", "Period": 600, "Dimensions": assertions.Match_Absent(),
		}))
	})
}

// policyStatements returns the statements of the IAM policy attached to the
// role whose logical id starts with rolePrefix.
func (s *synthesized) policyStatements(t *testing.T, rolePrefix string) []any {
	t.Helper()
	role := s.logicalID(t, "AWS::IAM::Role", rolePrefix)
	for _, p := range s.resources("AWS::IAM::Policy") {
		props := p["Properties"].(map[string]any)
		if slices.ContainsFunc(props["Roles"].([]any), func(r any) bool { return fmt.Sprint(r) == fmt.Sprint(ref(role)) }) {
			return props["PolicyDocument"].(map[string]any)["Statement"].([]any)
		}
	}
	t.Fatalf("no policy on role %s", role)
	return nil
}

// equalJSON compares as JSON so numbers and nesting compare by value.
func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

func TestSchedulerRoleInvokesOnlyCollect(t *testing.T) {
	s := defaults(t)
	dlq := s.logicalID(t, "AWS::SQS::Queue", "ScheduleDeadLetters")
	equalJSON(t, "scheduler policy", s.policyStatements(t, "SchedulerRole"), []any{
		map[string]any{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": getAtt(collectLogicalID, "Arn"), "Sid": "InvokeCollect"},
		map[string]any{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": getAtt(dlq, "Arn"), "Sid": "DeadLetter"},
	})
	check(t, "trust: scheduler of this account", func() {
		s.template.HasResourceProperties(jsii.String("AWS::IAM::Role"), obj(map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Action": "sts:AssumeRole", "Effect": "Allow",
				"Principal": map[string]any{"Service": "scheduler.amazonaws.com"},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")}},
			}}},
		}))
	})
}

func TestCollectPermissions(t *testing.T) {
	s := defaults(t)
	work := s.logicalID(t, "AWS::SQS::Queue", "WorkBF")
	table := s.logicalID(t, "AWS::DynamoDB::Table", "StateTable")
	equalJSON(t, "collect policy", s.policyStatements(t, "CollectRole"), []any{
		map[string]any{"Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Effect": "Allow", "Resource": getAtt(s.logicalID(t, "AWS::Logs::LogGroup", "CollectLogs"), "Arn")},
		// the work queue: consumed by the event-source mapping, fed by the tick
		map[string]any{"Action": []any{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, "Effect": "Allow", "Resource": getAtt(work, "Arn")},
		map[string]any{"Action": []any{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}, "Effect": "Allow", "Resource": getAtt(work, "Arn")},
		// the connectors, by prefix: no policy grows with the tenants
		map[string]any{"Action": "secretsmanager:ListSecrets", "Effect": "Allow", "Resource": "*", "Sid": "ListConnectors"},
		map[string]any{"Action": []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, "Effect": "Allow", "Resource": connectorsArn, "Sid": "ReadConnectors"},
		// Exactly what internal/state calls: no Scan, UpdateItem or stream reads.
		map[string]any{"Action": []any{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"},
			"Effect": "Allow", "Resource": getAtt(table, "Arn"), "Sid": "StateTable"},
		map[string]any{"Action": []any{"s3:PutObject", "s3:AbortMultipartUpload"}, "Effect": "Allow", "Sid": "ArchivePut",
			"Resource": []any{
				map[string]any{"Fn::Join": []any{"", []any{getAtt(bucketLogicalID, "Arn"), "/records/*"}}},
				map[string]any{"Fn::Join": []any{"", []any{getAtt(bucketLogicalID, "Arn"), "/deadletter/*"}}},
			}},
		// Alert events on the stack's bus only (docs/alerts.md).
		map[string]any{"Action": "events:PutEvents", "Effect": "Allow", "Resource": getAtt(s.logicalID(t, "AWS::Events::EventBus", "AlertsBus"), "Arn")},
		// The tick adds connectors to the archive table's tenant projection: exactly the calls
		// internal/fleet/projection.Tenants makes (its moto test records them), on that table only.
		map[string]any{"Action": []any{"glue:GetTable", "glue:UpdateTable"}, "Effect": "Allow", "Sid": "ArchiveTableTenants",
			"Resource": []any{glueArn("catalog"), glueArn("database/calmcollector"), glueArn("table/calmcollector/records")}},
	})
	check(t, "no managed policies on any role", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::IAM::Role"), obj(map[string]any{"ManagedPolicyArns": assertions.Match_Absent()}))
	})
}

func TestTestconnPermissionsAndURL(t *testing.T) {
	s := synth(t, map[string]any{keyConnectors: []any{"a", "b"}})
	equalJSON(t, "testconn policy", s.policyStatements(t, "TestconnRole"), []any{
		map[string]any{"Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Effect": "Allow", "Resource": getAtt(s.logicalID(t, "AWS::Logs::LogGroup", "TestconnLogs"), "Arn")},
		map[string]any{"Action": []any{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"},
			"Effect": "Allow", "Sid": "TestAndSaveConnectors", "Resource": connectorsArn},
		// Adding a connector tags it calm:connector only: never the tags collect obeys.
		map[string]any{"Action": []any{"secretsmanager:CreateSecret", "secretsmanager:TagResource"}, "Effect": "Allow", "Sid": "AddConnectors",
			"Resource": connectorsArn, "Condition": map[string]any{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"calm:connector"}}}},
	})
	check(t, "every function URL is IAM-authenticated", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::Url"), jsii.Number(1))
		s.template.AllResourcesProperties(jsii.String("AWS::Lambda::Url"), obj(map[string]any{
			"AuthType": "AWS_IAM", "InvokeMode": "BUFFERED", "TargetFunctionArn": getAtt(testconnLogicalID, "Arn"),
		}))
	})
	check(t, "no public invoke permission", func() {
		s.template.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(0))
	})
}

func TestEverythingEncrypted(t *testing.T) {
	s := defaults(t)
	check(t, "queues", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::SQS::Queue"), obj(map[string]any{"SqsManagedSseEnabled": true}))
	})
	check(t, "topics use the alarm key", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::SNS::Topic"), obj(map[string]any{
			"KmsMasterKeyId": getAtt(s.logicalID(t, "AWS::KMS::Key", "AlarmTopicKey"), "Arn"),
		}))
		s.template.AllResourcesProperties(jsii.String("AWS::KMS::Key"), obj(map[string]any{"EnableKeyRotation": true}))
	})
	check(t, "buckets", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::S3::Bucket"), obj(map[string]any{"BucketEncryption": assertions.Match_AnyValue()}))
	})
	check(t, "tables", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::DynamoDB::Table"), obj(map[string]any{"SSESpecification": map[string]any{"SSEEnabled": true}}))
	})
	denyHTTP := assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(obj(map[string]any{
		"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	}))})
	for _, typ := range []string{"AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::S3::BucketPolicy"} {
		check(t, typ+" enforces TLS", func() {
			s.template.AllResourcesProperties(jsii.String(typ), obj(map[string]any{"PolicyDocument": map[string]any{"Statement": denyHTTP}}))
		})
	}
	check(t, "CloudWatch may use the key", func() {
		s.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), obj(map[string]any{
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Resource": "*",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action":    []any{"kms:Decrypt", "kms:GenerateDataKey*"},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")}},
			}})},
		}))
	})
}

func TestAlarms(t *testing.T) {
	s := synth(t, map[string]any{keyConnectors: []any{"prod", "test"}, keyLagAlarmSeconds: 900, keyAlarmEmail: "ops@example.com"})
	check(t, "eight, whatever the tenants (TestScaleLimits: the same for 1,000)", func() {
		s.template.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(8))
	})
	topic := ref(s.logicalID(t, "AWS::SNS::Topic", "Alarms"))
	check(t, "every alarm notifies the topic", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"AlarmActions": []any{topic}, "OKActions": []any{topic},
		}))
	})
	check(t, "errors of any tenant", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "CalmCollector", "MetricName": "Errors", "Dimensions": assertions.Match_Absent(), "Statistic": "Sum",
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1,
		}))
	})
	check(t, "records or events dead-lettered by any tenant", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "CalmCollector", "MetricName": "DeadLettered", "Dimensions": assertions.Match_Absent(), "Statistic": "Sum",
			"Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1,
		}))
	})
	check(t, "no success of any tenant", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "CalmCollector", "MetricName": "RunSuccess", "Dimensions": assertions.Match_Absent(), "Statistic": "Sum", "Period": 300,
			"Threshold": 1, "ComparisonOperator": "LessThanThreshold", "EvaluationPeriods": 3, "TreatMissingData": "breaching",
		}))
	})
	check(t, "worst lag", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "CalmCollector", "MetricName": "MaxLagSeconds", "Dimensions": assertions.Match_Absent(), "Statistic": "Maximum",
			"Threshold": 900, "ComparisonOperator": "GreaterThanThreshold",
		}))
	})
	check(t, "work dead letters", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
			"Dimensions": []any{map[string]any{"Name": "QueueName", "Value": getAtt(s.logicalID(t, "AWS::SQS::Queue", "WorkDeadLetters"), "QueueName")}},
		}))
	})
	check(t, "dead letters", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
			"Dimensions": []any{map[string]any{"Name": "QueueName", "Value": getAtt(s.logicalID(t, "AWS::SQS::Queue", "ScheduleDeadLetters"), "QueueName")}},
		}))
	})
	check(t, "collect function errors", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": "AWS/Lambda", "MetricName": "Errors", "Threshold": 1,
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": ref(collectLogicalID)}},
		}))
	})
	check(t, "e-mail subscription", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), obj(map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": topic,
		}))
	})
	check(t, "no subscription without alarmEmail", func() {
		defaults(t).template.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	})
}

func TestDashboardSearchesEveryMetric(t *testing.T) {
	s := defaults(t)
	var body string
	for _, d := range s.resources("AWS::CloudWatch::Dashboard") {
		// The collector's own dashboard, not the data dashboard beside it.
		if d["Properties"].(map[string]any)["DashboardName"] != "CalmCollector" {
			continue
		}
		b, _ := json.Marshal(d["Properties"].(map[string]any)["DashboardBody"])
		body = string(b)
	}
	if body == "" {
		t.Fatal("no dashboard")
	}
	// The body is JSON inside JSON: quotes appear escaped twice.
	for _, want := range []string{
		// Metrics without a tenant dimension (one metric per name, whatever the tenants) ...
		`SEARCH('{CalmCollector} MetricName=\\\"RunSuccess\\\"', 'Sum', 300)`,
		`SEARCH('{CalmCollector} MetricName=\\\"Errors\\\"', 'Sum', 300)`,
		`SEARCH('{CalmCollector,monitor} MetricName=\\\"Points\\\"', 'Sum', 300)`,
		`SEARCH('{CalmCollector,monitor} MetricName=\\\"LagSeconds\\\"', 'Maximum', 300)`,
		`SEARCH('{CalmCollector,monitor} MetricName=\\\"Requests\\\"', 'Sum', 300)`,
		`SEARCH('{CalmCollector,monitor} MetricName=\\\"Retries\\\"', 'Sum', 300)`,
		`SEARCH('{CalmCollector,monitor} MetricName=\\\"Throttled\\\"', 'Sum', 300)`,
		`SEARCH('{CalmCollector} MetricName=\\\"RunDuration\\\"', 'Maximum', 300)`,
		// ... and every tenant in one widget through the one per-tenant metric.
		`SELECT MAX(MaxLagSeconds) FROM SCHEMA(\\\"CalmCollector\\\", tenant) GROUP BY tenant ORDER BY MAX() DESC LIMIT 20`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("body: %.3000s", body)
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t, map[string]any{keyConnectors: []any{"prod-eu10"}})
	for _, o := range []string{"FunctionUrl", "ConnectorPrefix", "StateTableName", "ArchiveBucketName", "DashboardName", "DashboardUrl", "AlarmTopicArn", "CollectFunctionName"} {
		check(t, "output "+o, func() {
			s.template.HasOutput(jsii.String(o), obj(map[string]any{"Value": assertions.Match_AnyValue()}))
		})
	}
}

// nagClean fails on every cdk-nag AwsSolutions error left in the stack.
func nagClean(t *testing.T, s *synthesized) {
	t.Helper()
	var found []cxapi.SynthesisMessage
	check(t, "nag annotations", func() {
		for _, m := range *assertions.Annotations_FromStack(s.stack.Stack).FindError(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
			found = append(found, *m)
		}
	})
	for _, m := range found {
		t.Errorf("cdk-nag: %s: %v", *m.Id, m.Entry.Data)
	}
}

func TestNagAwsSolutions(t *testing.T) {
	t.Run("defaults", func(t *testing.T) { nagClean(t, defaults(t)) })
	t.Run("several connectors, imported secret, no archive, e-mail", func(t *testing.T) {
		nagClean(t, synth(t, map[string]any{
			keyConnectors:         []any{"prod", "test"},
			keyExistingSecretArns: map[string]any{"test": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/test-AbC123"},
			keyArchive:            false,
			keyAlarmEmail:         "ops@example.com",
			keyCollectConcurrency: 1,
		}))
	})
	t.Run("OTLP sink", func(t *testing.T) {
		nagClean(t, synth(t, map[string]any{keySinks: "stdout,otlp+https://otel.example.com"}))
	})
}

// TestNagCatchesFindings proves the gate can fail: a queue without
// encryption or TLS enforcement must be reported.
func TestNagCatchesFindings(t *testing.T) {
	s := synthWith(t, nil, func(s *CollectorStack) {
		awssqs.NewCfnQueue(s.Stack, jsii.String("Unencrypted"), &awssqs.CfnQueueProps{})
	})
	var n int
	check(t, "annotations", func() {
		n = len(*assertions.Annotations_FromStack(s.stack.Stack).FindError(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-SQS.*"))))
	})
	if n == 0 {
		t.Error("cdk-nag reported nothing for an unencrypted queue without TLS enforcement")
	}
}

// allowedWildcards are the only Resource values containing "*" the template
// may hold, each with why it cannot be narrower.
var allowedWildcards = map[string]string{
	// Connectors are added at run time under the stack's prefix (internal/fleet).
	`{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":secretsmanager:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":secret:calm-collector/CalmCollector/connectors/*"]]}`: "the connector secrets, found by prefix",
	// ListSecrets takes no other resource; it returns names and tags, never values.
	`"*"`: "secretsmanager:ListSecrets only (TestCollectPermissions)",
	// S3 object keys are per tenant/monitor/window, unknown at deploy time.
	`{"Fn::Join":["",[{"Fn::GetAtt":["ArchiveBucket","Arn"]},"/records/*"]]}`: "collect puts archive objects under records/",
	// Refused records are kept per tenant/monitor/window/sink (docs/design.md §6).
	`{"Fn::Join":["",[{"Fn::GetAtt":["ArchiveBucket","Arn"]},"/deadletter/*"]]}`: "collect puts dead letters under deadletter/",
}

// connectorsArn is the grant on every connector secret of the default stack name.
func glueArn(resource string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":glue:", ref("AWS::Region"), ":", ref("AWS::AccountId"), ":" + resource}}}
}

var connectorsArn = map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":secretsmanager:", ref("AWS::Region"), ":",
	ref("AWS::AccountId"), ":secret:calm-collector/CalmCollector/connectors/*"}}}

func TestNoWildcardResources(t *testing.T) {
	s := defaults(t)
	for id, r := range s.json["Resources"].(map[string]any) {
		r := r.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		var docs []any
		switch r["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy":
			docs = append(docs, props["PolicyDocument"])
		case "AWS::IAM::Role":
			for _, p := range asSlice(props["Policies"]) {
				docs = append(docs, p.(map[string]any)["PolicyDocument"])
			}
		case "AWS::KMS::Key":
			// A key policy's Resource is always "*", meaning this key; it
			// is not an IAM identity policy.
			continue
		case "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy":
			docs = append(docs, props["PolicyDocument"])
		}
		for _, d := range docs {
			for _, st := range asSlice(d.(map[string]any)["Statement"]) {
				st := st.(map[string]any)
				if st["Effect"] == "Deny" {
					continue // a broad Deny (e.g. TLS-only on bucket/*) only narrows access
				}
				for _, res := range asSlice(st["Resource"]) {
					b, _ := json.Marshal(res)
					if !strings.Contains(string(b), "*") {
						continue
					}
					if _, ok := allowedWildcards[string(b)]; ok {
						continue
					}
					t.Errorf("%s (%s): statement %v has wildcard resource %s", id, r["Type"], st["Action"], b)
				}
			}
		}
	}
}

func asSlice(v any) []any {
	if s, ok := v.([]any); ok {
		return s
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func TestCfnLint(t *testing.T) {
	lint := testkit.LookPath(t, testkit.CfnLint)
	for name, ctx := range map[string]map[string]any{
		"defaults":            nil,
		"two connectors, off": {keyConnectors: []any{"prod", "test"}, keyArchive: false, keyAlarmEmail: "ops@example.com"},
		"OTLP sink":           {keySinks: "stdout,otlp+https://otel.example.com"},
		"alerts to the topic": {keyAlertRules: testRules, keyAlertsToTopic: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, ctx)
			var dir string
			check(t, "synth", func() { dir = *s.app.Synth(nil).Directory() })
			template := filepath.Join(dir, *s.stack.Stack.ArtifactId()+".template.json")
			if _, err := os.Stat(template); err != nil {
				t.Fatalf("template not written: %v", err)
			}
			// Warnings fail too: the template should be clean.
			out, err := exec.Command(lint, "--non-zero-exit-code", "warning", "--ignore-checks", "W3005", "--", template).CombinedOutput()
			if err != nil {
				var exit *exec.ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("run cfn-lint: %v", err)
				}
				t.Errorf("cfn-lint %s: exit %d\n%s", template, exit.ExitCode(), out)
			}
		})
	}
}

// TestCdkJSONMatchesDefaults keeps cdk.json (read by the CDK CLI) and
// DefaultConfig (used by a plain `go run ./infra/cdk`) in step.
func TestCdkJSONMatchesDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatalf("read cdk.json: %v", err)
	}
	var file struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("parse cdk.json: %v", err)
	}
	if file.App != "go run ./infra/cdk" {
		t.Errorf("cdk.json app = %q, want %q", file.App, "go run ./infra/cdk")
	}
	if file.Context[keyBootstrapDir] != DefaultConfig().BootstrapDir {
		t.Errorf("cdk.json bootstrapDir = %v, want %q", file.Context[keyBootstrapDir], DefaultConfig().BootstrapDir)
	}
	file.Context[keyBootstrapDir] = bootstrapDir() // build/lambda need not exist here
	got, err := ConfigFromContext(func(k string) any { return file.Context[k] })
	if err != nil {
		t.Fatalf("cdk.json context: %v", err)
	}
	want, err := ConfigFromContext(func(k string) any {
		if k == keyBootstrapDir {
			return bootstrapDir()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	equalJSON(t, "cdk.json context vs DefaultConfig", got, want)
}

// The secrets the stack creates hold a placeholder and carry the tag that keeps the tick from
// dispatching them until they are filled in (internal/fleet.TagPlaceholder); the dashboard names
// the connectors the tick found unfilled.
func TestPlaceholderSecretsAreTaggedAndShown(t *testing.T) {
	s := defaults(t)
	check(t, "tagged calm:placeholder", func() {
		s.template.AllResourcesProperties(jsii.String("AWS::SecretsManager::Secret"), obj(map[string]any{
			"Tags": assertions.Match_ArrayWith(&[]any{map[string]any{"Key": "calm:placeholder", "Value": "true"}}),
		}))
	})
	var body string
	for _, d := range s.resources("AWS::CloudWatch::Dashboard") {
		b, _ := json.Marshal(d["Properties"])
		body += string(b)
	}
	if !strings.Contains(body, "not filled in yet") {
		t.Errorf("no dashboard widget names the connectors not filled in yet")
	}
}
