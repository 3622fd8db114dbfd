package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/calm-collector/calm-collector/internal/awstest"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

// The stack–function contract (docs/deploy.md, "The stack–function contract"): for each documented
// stack configuration, the real stack is synthesized, each function's environment is taken from
// the template as written, its tokens resolved to values that point at the local stand-ins
// (moto for Secrets Manager, DynamoDB, S3, SQS and EventBridge; the simulator as Cloud ALM; the
// OpenTelemetry Collector's receiver as the OTLP backend), and the built bootstraps run under
// the Lambda RIE with it: collect dispatches on the schedule's own input and collects each
// queued tenant from an SQS event; testconn tests the default connector.

// contractAccount is the account moto answers for; contractRegion the region of the run.
const contractAccount = "123456789012"

// overrides are the only variables set on top of a template's environment, each because a
// local stand-in takes the place of AWS:
//
//   - AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: Lambda sets these itself (they are
//     reserved and never in a template); here they are moto's region and static credentials.
//   - CALM_ENDPOINT_URL: the AWS APIs are moto's on loopback, not AWS's public endpoints.
//   - CALM_TESTCONN_ALLOW_LOOPBACK (testconn only): the simulator standing in for Cloud ALM
//     listens on loopback, which the deployed function refuses as a target.
func overrides(moto *awstest.MotoServer, fn string) []string {
	env := []string{
		"AWS_REGION=" + awstest.Region,
		"AWS_ACCESS_KEY_ID=" + awstest.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + awstest.SecretKey,
		"CALM_ENDPOINT_URL=" + moto.Endpoint(),
	}
	if fn == testconnLogicalID {
		env = append(env, "CALM_TESTCONN_ALLOW_LOOPBACK=true")
	}
	return env
}

// builtBootstraps builds both functions once per test binary for this machine, with the
// Makefile's flags, into DIR/collect/bootstrap and DIR/testconn/bootstrap: the bootstrapDir
// the stack is synthesized with, so the template's assets are these binaries.
var builtBootstraps = sync.OnceValues(func() (string, error) {
	dir := filepath.Join(tempRoot, "built")
	for _, fn := range []string{"collect", "testconn"} {
		cmd := exec.Command(awstest.GoTool(), "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w",
			"-o", filepath.Join(dir, fn, "bootstrap"), "../../functions/"+fn)
		cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", &buildError{fn: fn, err: err, out: string(out)}
		}
	}
	return dir, nil
})

type buildError struct {
	fn, out string
	err     error
}

func (e *buildError) Error() string { return "build " + e.fn + ": " + e.err.Error() + "\n" + e.out }

// contractStack is the real stack synthesized for the contract: its configuration, the
// template, and what `make synth` would refuse in it (stackProblems).
type contractStack struct {
	cfg  Config
	tpl  map[string]any
	errs []string
}

// contractTemplate synthesizes the real stack from ctx with the built bootstraps, without
// cdk-nag (the stack tests hold it to nag; nag changes no environment).
func contractTemplate(t *testing.T, bootstraps string, ctx map[string]any) contractStack {
	t.Helper()
	all := map[string]any{keyBootstrapDir: bootstraps}
	for k, v := range ctx {
		all[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &all, Outdir: jsii.String(tempDir(t))})
	cfg, err := ConfigFromContext(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s := NewCollectorStack(app, cfg)
	c := contractStack{cfg: cfg}
	check(t, "synthesize", func() { c.tpl = *assertions.Template_FromStack(s.Stack, nil).ToJSON() })
	if c.tpl == nil {
		t.FailNow()
	}
	c.errs = stackProblems(app, c.tpl, cfg)
	return c
}

// contractCase is one documented stack configuration.
type contractCase struct {
	name string
	// context is the CDK context, given the ARN of a secret made beforehand in moto and the OTLP
	// receiver's base URL.
	context func(existing, otlp string) map[string]any
	tenants int // connectors the tick must queue
}

var contractCases = []contractCase{
	{name: "default", context: func(_, _ string) map[string]any { return map[string]any{} }, tenants: 1},
	{name: "archive off", context: func(_, _ string) map[string]any { return map[string]any{keyArchive: "false"} }, tenants: 1},
	{name: "otlp sink", context: func(_, otlp string) map[string]any {
		return map[string]any{keySinks: []any{"stdout", "otlp+" + otlp}}
	}, tenants: 1},
	{name: "several connectors", context: func(_, _ string) map[string]any {
		return map[string]any{keyConnectors: []any{"default", "prod-eu10", "test-us10"}}
	}, tenants: 3},
	{name: "existing secret", context: func(arn, _ string) map[string]any {
		return map[string]any{keyConnectors: `["default","prod"]`, keyExistingSecretArns: map[string]any{"prod": arn}}
	}, tenants: 2},
	{name: "customer key", context: func(_, _ string) map[string]any {
		return map[string]any{keySecretsKMSKeyArn: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
	}, tenants: 1},
	{name: "custom schedule and monitors", context: func(_, _ string) map[string]any {
		return map[string]any{keySchedule: "cron(0/10 * * * ? *)", keySchedulePeriod: 10, keyMonitors: "hm,jam"}
	}, tenants: 1},
	{name: "fan-out bound and alert rules", context: func(_, _ string) map[string]any {
		return map[string]any{keyMaxConcurrency: 200, keyCollectConcurrency: 20, keyAlertRules: testRules, keyAlertsToTopic: true}
	}, tenants: 1},
}

func TestStackFunctionContract(t *testing.T) {
	awstest.RIE(t) // fails under CI=true, skips elsewhere, when the RIE is missing
	moto := awstest.Moto(t)
	srv := sim.StartTest(t, sim.Config{})
	otlp := otlptest.Start(t)
	bootstraps, err := builtBootstraps()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range contractCases {
		t.Run(c.name, func(t *testing.T) {
			moto.Reset(t)
			ctx := context.Background()
			existing, err := moto.SecretsClient().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
				Name: aws.String("calm/existing/prod"), SecretString: aws.String(string(srv.ConnectorJSON()))})
			if err != nil {
				t.Fatal(err)
			}
			cctx := c.context(aws.ToString(existing.ARN), otlp.Endpoint)
			stack := "Contract" + string(rune('A'+i))
			cctx[keyStackName] = stack
			synthesized := contractTemplate(t, bootstraps, cctx)
			if len(synthesized.errs) > 0 {
				t.Fatalf("synthesis errors: %s", strings.Join(synthesized.errs, "\n"))
			}
			cfg := synthesized.cfg
			acct := newAccount("aws", awstest.Region, contractAccount, stack, synthesized.tpl)
			standIn(t, moto, acct, cfg, srv.ConnectorJSON())

			points := otlp.Metrics.DataPointCount() + otlp.Logs.LogRecordCount()
			runCollect(t, moto, acct, bootstraps, c.tenants)
			if slices.ContainsFunc(cfg.Sinks, func(s string) bool { return strings.HasPrefix(s, "otlp+") }) {
				got := otlp.Metrics.DataPointCount() + otlp.Logs.LogRecordCount() - points
				if got == 0 {
					t.Error("the OTLP receiver got no data point or log record from the collect function")
				}
				t.Logf("OTLP receiver: %d data points and log records", got)
			}
			if cfg.Archive {
				if n := archived(t, moto, acct); n == 0 {
					t.Error("no object in the archive bucket after the tenants' runs")
				}
			}
			runTestconn(t, moto, acct, bootstraps, cfg, srv.ServiceKeyJSON())
		})
	}
}

// standIn makes in moto what the template creates and the functions touch, under the names the
// account resolves, and records moto's ARNs and URLs where they are the function's input: the
// secrets (connector secrets hold the simulator's service key, as an operator would put it), the
// state table, the archive bucket and its Glue table, the work queue and the event bus.
func standIn(t *testing.T, moto *awstest.MotoServer, a *account, cfg Config, connector []byte) {
	t.Helper()
	ctx := context.Background()
	awsCfg := moto.AWSConfig(ctx)
	for lid, r := range a.resources {
		name, err := a.name(lid)
		if err != nil {
			t.Fatal(err)
		}
		props, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::SecretsManager::Secret":
			value, _ := props["SecretString"].(string)
			if strings.HasPrefix(name, connectorPrefix(cfg)) {
				value = string(connector)
			}
			out, err := moto.SecretsClient().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
			if err != nil {
				t.Fatalf("secret %s: %v", name, err)
			}
			a.refs[lid] = aws.ToString(out.ARN)
		case "AWS::DynamoDB::Table":
			if err := state.CreateTable(ctx, moto.DynamoClient(), name); err != nil {
				t.Fatalf("table %s: %v", name, err)
			}
		case "AWS::S3::Bucket":
			if _, err := moto.S3Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
				t.Fatalf("bucket %s: %v", name, err)
			}
		case "AWS::SQS::Queue":
			out, err := sqs.NewFromConfig(awsCfg).CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
			if err != nil {
				t.Fatalf("queue %s: %v", name, err)
			}
			a.refs[lid] = aws.ToString(out.QueueUrl)
		case "AWS::Glue::Table": // the tick keeps its tenant projection (glue_standin_test.go)
			standInGlueTable(t, moto, a, props)
		case "AWS::Events::EventBus":
			if _, err := eventbridge.NewFromConfig(awsCfg).CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
				t.Fatalf("event bus %s: %v", name, err)
			}
		}
	}
}

// scheduleInput is what the schedule passes collect at each tick, as the template writes it.
func scheduleInput(t *testing.T, a *account) []byte {
	t.Helper()
	for _, r := range a.resources {
		if r["Type"] != "AWS::Scheduler::Schedule" {
			continue
		}
		target, _ := r["Properties"].(map[string]any)["Target"].(map[string]any)
		if arn, err := a.resolve(target["Arn"]); err != nil || !strings.HasSuffix(arn, ":function:"+mustName(t, a, collectLogicalID)) {
			t.Fatalf("the schedule's target is %q (%v), not the collect function", arn, err)
		}
		input, _ := target["Input"].(string)
		return []byte(input)
	}
	t.Fatal("no schedule in the template")
	return nil
}

func mustName(t *testing.T, a *account, lid string) string {
	t.Helper()
	n, err := a.name(lid)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// runCollect starts collect with its template environment, ticks it with the schedule's input,
// and runs every message the tick queued as the queue's event-source mapping would.
func runCollect(t *testing.T, moto *awstest.MotoServer, a *account, bootstraps string, tenants int) {
	t.Helper()
	env := a.functionEnv(t, collectLogicalID)
	checkEnvSize(t, collectLogicalID, env)
	url := awstest.StartRIE(t, filepath.Join(bootstraps, "collect", "bootstrap"), append(pairs(env), overrides(moto, collectLogicalID)...))

	var tick struct {
		Connectors, Queued int
		Error              string
		Projected          []string // none: the template's table lists the context's connectors already
	}
	body := awstest.Invoke(t, url, scheduleInput(t, a))
	if err := json.Unmarshal(body, &tick); err != nil || tick.Queued != tenants || tick.Error != "" || len(tick.Projected) != 0 {
		t.Fatalf("schedule tick: %s (%v); want %d tenants queued", body, err, tenants)
	}
	queueURL := env["CALM_QUEUE_URL"]
	queueArn := ""
	for lid, r := range a.resources {
		if r["Type"] == "AWS::SQS::Queue" && a.refs[lid] == queueURL {
			queueArn, _ = a.getAtt(lid, "Arn")
		}
	}
	client := sqs.NewFromConfig(moto.AWSConfig(context.Background()))
	msgs, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil || len(msgs.Messages) != tenants {
		t.Fatalf("work queue %s: %d messages (%v), want %d", queueURL, len(msgs.Messages), err, tenants)
	}
	for _, m := range msgs.Messages {
		event := events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId),
			ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			EventSource: "aws:sqs", EventSourceARN: queueArn, AWSRegion: a.region}}}
		payload, _ := json.Marshal(event)
		var resp events.SQSEventResponse
		body := awstest.Invoke(t, url, payload)
		if err := json.Unmarshal(body, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Errorf("work message %s: %s (%v)", aws.ToString(m.Body), body, err)
		}
	}
}

// runTestconn starts testconn with its template environment and tests the default connector.
func runTestconn(t *testing.T, moto *awstest.MotoServer, a *account, bootstraps string, cfg Config, key []byte) {
	t.Helper()
	env := a.functionEnv(t, testconnLogicalID)
	checkEnvSize(t, testconnLogicalID, env)
	url := awstest.StartRIE(t, filepath.Join(bootstraps, "testconn", "bootstrap"), append(pairs(env), overrides(moto, testconnLogicalID)...))
	event, err := os.ReadFile(filepath.Join("..", "..", "events", "testconn-get.json"))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.LambdaFunctionURLResponse
	body := awstest.Invoke(t, url, event)
	if err := json.Unmarshal(body, &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("testconn: %s (%v)", body, err)
	}
	var report conntest.Report
	if err := json.Unmarshal([]byte(resp.Body), &report); err != nil || !report.OK {
		t.Errorf("testconn report not OK: %s (%v)", resp.Body, err)
	}
	if cfg.SecretsKMSKeyArn != "" {
		saveUnderTheStacksKey(t, moto, url, cfg, key)
	}
}

// saveUnderTheStacksKey adds a connector at run time (POST ?connector=NEW&save=true) to a stack
// with a customer key of its secrets: the secret the function creates uses that key.
func saveUnderTheStacksKey(t *testing.T, moto *awstest.MotoServer, url string, cfg Config, key []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "testconn-post.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req events.LambdaFunctionURLRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	req.RawQueryString, req.QueryStringParameters = "connector=runtime-new&save=true", map[string]string{"connector": "runtime-new", "save": "true"}
	req.Body, req.IsBase64Encoded = string(key), false
	event, _ := json.Marshal(req)
	var resp events.LambdaFunctionURLResponse
	if body := awstest.Invoke(t, url, event); json.Unmarshal(body, &resp) != nil || resp.StatusCode != 200 {
		t.Fatalf("testconn ?connector=runtime-new&save=true: %s", body)
	}
	d, err := moto.SecretsClient().DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(connectorPrefix(cfg) + "runtime-new")})
	if err != nil || aws.ToString(d.KmsKeyId) != cfg.SecretsKMSKeyArn {
		t.Errorf("the connector testconn created uses the key %q (%v), want the stack's %s", aws.ToString(d.KmsKeyId), err, cfg.SecretsKMSKeyArn)
	}
}

// archived counts the objects in the archive bucket.
func archived(t *testing.T, moto *awstest.MotoServer, a *account) int {
	t.Helper()
	n, err := a.name(bucketLogicalID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := moto.S3Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(n), Prefix: aws.String(archivePrefix + "/")})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents)
}

// pairs is env as KEY=value entries.
func pairs(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// checkEnvSize holds a resolved environment to Lambda's 4 KB.
func checkEnvSize(t *testing.T, fn string, env map[string]string) {
	t.Helper()
	n := envBytes(env)
	if n > maxEnvBytes {
		t.Errorf("%s: the resolved environment is %d bytes; Lambda refuses more than %d", fn, n, maxEnvBytes)
	}
	t.Logf("%s: resolved environment %d bytes (limit %d)", fn, n, maxEnvBytes)
}
