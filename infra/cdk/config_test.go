package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
)

// ctxOf builds a context getter; the dummy bootstraps are added unless ctx
// names bootstrapDir itself.
func ctxOf(ctx map[string]any) func(string) any {
	return func(k string) any {
		if v, ok := ctx[k]; ok {
			return v
		}
		if k == keyBootstrapDir {
			return bootstrapDir()
		}
		return nil
	}
}

func TestConfigDefaults(t *testing.T) {
	got, err := ConfigFromContext(ctxOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.BootstrapDir = bootstrapDir()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// Values given with -c key=value arrive as strings.
func TestConfigFromCLIStrings(t *testing.T) {
	arn := "arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/prod-AbC123"
	got, err := ConfigFromContext(ctxOf(map[string]any{
		keyConnectors:         "prod, test",
		keySchedule:           "cron(0/15 * * * ? *)",
		keySchedulePeriod:     "15",
		keyMonitors:           `["hm","status"]`,
		keySinks:              "stdout",
		keyArchive:            "false",
		keyLogRetentionDays:   "90",
		keyAlarmEmail:         "ops@example.com",
		keyExistingSecretArns: `{"prod":"` + arn + `"}`,
		keyLagAlarmSeconds:    "600",
		keyCollectConcurrency: "2",
		keyMaxConcurrency:     "25",
		keyAPIQuotaGB:         "48.5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		StackName: "CalmCollector", Connectors: []string{"prod", "test"},
		Schedule: "cron(0/15 * * * ? *)", SchedulePeriod: 15 * time.Minute,
		Monitors: "hm,status", Sinks: []string{"stdout"}, Archive: false, LogRetentionDays: 90,
		AlarmEmail: "ops@example.com", ExistingSecrets: map[string]string{"prod": arn},
		LagAlarmSeconds: 600, BootstrapDir: bootstrapDir(), CollectConcurrency: 2, Alerts: AlertsConfig{Enabled: true},
		MaxConcurrency: 25, APIQuotaGB: 48.5,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestSchedulePeriod(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour,
	} {
		got, err := ConfigFromContext(ctxOf(map[string]any{keySchedule: expr}))
		if err != nil || got.SchedulePeriod != want {
			t.Errorf("%s: period %v, %v; want %v", expr, got.SchedulePeriod, err, want)
		}
	}
}

// The default schedule is the cadence collection and the connection test assume (internal/cadence).
func TestDefaultScheduleIsTheCadence(t *testing.T) {
	c := DefaultConfig()
	period, err := schedulePeriod(c.Schedule)
	if err != nil || period != cadence.SchedulePeriod || c.SchedulePeriod != cadence.SchedulePeriod {
		t.Errorf("default schedule %s: period %v (%v), SchedulePeriod %v; want %v", c.Schedule, period, err, c.SchedulePeriod, cadence.SchedulePeriod)
	}
}

// configErrors are bad contexts, each with every line of its joined error, in order.
var configErrors = map[string]struct {
	ctx  map[string]any
	want []string
}{
	"secrets key alias": {map[string]any{keySecretsKMSKeyArn: "alias/calm"},
		[]string{`context "secretsKmsKeyArn": "alias/calm" is not a KMS key ARN like arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (an alias will not do)`}},
	"connectors empty": {map[string]any{keyConnectors: []any{}},
		[]string{`context "connectors": no connector; name at least one, e.g. ["default"]`}},
	"connector name and duplicate": {map[string]any{keyConnectors: []any{"Prod", "a", "a"}}, []string{
		`context "connectors": "Prod" is not a connector name; use 1-32 lower-case letters, digits and '-' (not at either end)`,
		`context "connectors": "a" is listed twice`,
	}},
	"connectors wrong type": {map[string]any{keyConnectors: 3.0},
		[]string{`context "connectors": want a list of strings, got 3`}},
	"schedule": {map[string]any{keySchedule: "every 5 minutes"},
		[]string{`context "schedule": "every 5 minutes" is not a schedule; use rate(N minutes|hours|days) or cron(...), e.g. "rate(5 minutes)"`}},
	"schedule plural": {map[string]any{keySchedule: "rate(5 minute)"},
		[]string{`context "schedule": "rate(5 minute)": EventBridge wants the singular unit for 1 and the plural otherwise, e.g. rate(1 minute), rate(5 minutes)`}},
	"schedule too slow": {map[string]any{keySchedule: "rate(2 days)"},
		[]string{`context "schedule": runs every 48h0m0s; the alarms need between 1 minute and 1 day between runs`}},
	"cron without period": {map[string]any{keySchedule: "cron(0 * * * ? *)"},
		[]string{`context "schedulePeriodMinutes": a cron() schedule needs the time between runs in minutes, for the "no successful run" alarm`}},
	"period disagrees with rate": {map[string]any{keySchedulePeriod: 10.0},
		[]string{`context "schedulePeriodMinutes": 10m0s disagrees with schedule rate(5 minutes); leave it out for rate() schedules`}},
	"monitors": {map[string]any{keyMonitors: "auto,hm, bad id"}, []string{
		`context "monitors": "auto" cannot be combined with monitor ids`,
		`context "monitors": unknown monitor "bad id"; known: ` + strings.Join(monitor.IDs(), ","),
	}},
	"sinks": {map[string]any{keySinks: []any{"s3://other/x", "file:/tmp/x", "otlp+http://otel.example.com"}}, []string{
		// the collect function's own words (spec.ForLambda), after the key
		`context "sinks": sink "file:/tmp/x" is not usable in Lambda; ` + spec.LambdaForms,
		`context "sinks": sink "otlp+http://otel.example.com": plain http is allowed only for loopback hosts; use otlp+https://`,
		`context "sinks": "s3://other/x": the stack grants the function only its own archive bucket; set archive to true instead`,
	}},
	"no sink at all": {map[string]any{keySinks: []any{}, keyArchive: false},
		[]string{`context "sinks": no sink: with archive false, name at least one, e.g. ["stdout"]`}},
	"archive": {map[string]any{keyArchive: "yes please"},
		[]string{`context "archive": want true or false, got "yes please"`}},
	"retention": {map[string]any{keyLogRetentionDays: 45.0},
		[]string{`context "logRetentionDays": 45 is not a CloudWatch Logs retention; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653`}},
	"retention not a number": {map[string]any{keyLogRetentionDays: "a month"},
		[]string{`context "logRetentionDays": want a whole number, got "a month"`}},
	"email": {map[string]any{keyAlarmEmail: "Ops <ops@example.com>"},
		[]string{`context "alarmEmail": "Ops <ops@example.com>" is not a plain e-mail address like ops@example.com`}},
	"existing secrets": {map[string]any{keyExistingSecretArns: map[string]any{
		"default": "arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/prod",
		"other":   "arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/other-AbC123",
	}}, []string{
		`context "existingSecretArns": default: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:calm/prod" is not a complete secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-abcdef, as shown in the console)`,
		`context "existingSecretArns": "other" is not one of the connectors [default]; add it to "connectors" or remove it here`,
	}},
	"existing secrets bad JSON": {map[string]any{keyExistingSecretArns: "{prod:"},
		[]string{`context "existingSecretArns": not a JSON object of connector name to secret ARN: invalid character 'p' looking for beginning of object key string`}},
	"lag": {map[string]any{keyLagAlarmSeconds: 30.0},
		[]string{`context "lagAlarmSeconds": 30 is below 60 seconds; collection runs lag by a few minutes by design`}},
	"lag fraction": {map[string]any{keyLagAlarmSeconds: 90.5},
		[]string{`context "lagAlarmSeconds": want a whole number, got 90.5`}},
	"concurrency": {map[string]any{keyCollectConcurrency: -1.0, keyTestconnConcurrency: "-2"}, []string{
		`context "collectConcurrency": -1 is negative; use 0 (unreserved) or a positive number`,
		`context "testconnConcurrency": -2 is negative; use 0 (unreserved) or a positive number`,
	}},
	"stack name": {map[string]any{keyStackName: "calm_collector"},
		[]string{`context "stackName": "calm_collector" is not a CloudFormation stack name; use letters, digits and '-', starting with a letter`}},
	"bootstrap missing": {map[string]any{keyBootstrapDir: "/nonexistent"}, []string{
		"context \"bootstrapDir\": " + "/nonexistent/collect/bootstrap" + " is missing; run `make build` first (it writes the Lambda binaries there)",
		"context \"bootstrapDir\": " + "/nonexistent/testconn/bootstrap" + " is missing; run `make build` first (it writes the Lambda binaries there)",
	}},
}

func TestConfigErrors(t *testing.T) {
	for name, tc := range configErrors {
		t.Run(name, func(t *testing.T) {
			_, err := ConfigFromContext(ctxOf(tc.ctx))
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("error:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

// Every problem is reported at once, not just the first.
func TestConfigReportsAllProblems(t *testing.T) {
	_, err := ConfigFromContext(ctxOf(map[string]any{
		keyConnectors: []any{"Bad"}, keySchedule: "hourly", keyLogRetentionDays: 2.0, keyAlarmEmail: "nope",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{keyConnectors, keySchedule, keyLogRetentionDays, keyAlarmEmail} {
		if !strings.Contains(err.Error(), `context "`+key+`"`) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

func TestOutputID(t *testing.T) {
	for in, want := range map[string]string{"default": "Default", "prod-eu10": "ProdEu10", "a-b-c": "ABC"} {
		if got := outputID(in); got != want {
			t.Errorf("outputID(%q) = %q, want %q", in, got, want)
		}
	}
}
