package main

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/quota"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
)

// Context keys read by the app. cdk.json lists every one with its default;
// -c key=value on the CDK CLI overrides it.
const (
	keyStackName           = "stackName"
	keyConnectors          = "connectors"
	keySchedule            = "schedule"
	keySchedulePeriod      = "schedulePeriodMinutes"
	keyMonitors            = "monitors"
	keySinks               = "sinks"
	keyArchive             = "archive"
	keyLogRetentionDays    = "logRetentionDays"
	keyAlarmEmail          = "alarmEmail"
	keyExistingSecretArns  = "existingSecretArns"
	keyLagAlarmSeconds     = "lagAlarmSeconds"
	keyBootstrapDir        = "bootstrapDir"
	keyCollectConcurrency  = "collectConcurrency"
	keyTestconnConcurrency = "testconnConcurrency"
	keySecretsKMSKeyArn    = "secretsKmsKeyArn" //nolint:gosec // G101: a context key's name
	keyMaxConcurrency      = "maxConcurrency"
)

// Config is the whole stack configuration, parsed from CDK context by
// [ConfigFromContext]. Zero values are never used: every field has a default
// (see [DefaultConfig]).
type Config struct {
	StackName  string   // CloudFormation stack name
	Connectors []string // one secret + one schedule each; the first is CALM_SECRET_ID
	Schedule   string   // EventBridge Scheduler expression: rate(...) or cron(...)
	// SchedulePeriod is the time between two runs: derived from a rate()
	// schedule, or given as schedulePeriodMinutes for cron(). The "no
	// successful run" alarm looks at three of them.
	SchedulePeriod time.Duration
	Monitors       string // CALM_MONITORS: "auto" or a comma list of monitor ids
	// ExtraMonitors is CALM_EXTRA_MONITORS: a JSON list of monitor definitions ("" for none).
	ExtraMonitors string
	Sinks         []string // sink specs besides the archive (which archive=true adds)
	Archive       bool     // create the S3 archive bucket and the s3://<bucket>/records sink
	// LogRetentionDays is the retention of both functions' log groups; one of
	// the values CloudWatch Logs accepts (see retentionDays).
	LogRetentionDays int
	AlarmEmail       string            // optional e-mail subscription on the alarm topic
	ExistingSecrets  map[string]string // connector name -> complete secret ARN, instead of a new secret
	LagAlarmSeconds  int               // MaxLagSeconds threshold
	BootstrapDir     string            // holds collect/bootstrap and testconn/bootstrap
	// CollectConcurrency and TestconnConcurrency reserve concurrency for a
	// function when > 0 (0: unreserved, the default; small accounts cannot
	// reserve any).
	CollectConcurrency  int
	TestconnConcurrency int
	// SecretsKMSKeyArn, when set, is the customer-managed KMS key that encrypts the connector
	// and OTLP headers secrets the stack creates (default: the AWS-managed aws/secretsmanager).
	SecretsKMSKeyArn string
	Alerts           AlertsConfig // the event bus and alert rules (alerts.go)
	// MaxConcurrency bounds the tenants collected at once: the work queue's event-source
	// mapping's maximum concurrency (2-1000, as Lambda allows).
	MaxConcurrency int
	// APIQuotaGB is the tenants' monthly fair-use quota of API data (quota.go).
	APIQuotaGB float64
}

// DefaultConfig is the configuration with no context at all. cdk.json repeats
// these values (a test keeps the two equal), because `go run ./infra/cdk`
// outside the CDK CLI never reads cdk.json.
func DefaultConfig() Config {
	return Config{
		StackName:        "CalmCollector",
		Connectors:       []string{"default"},
		Schedule:         "rate(5 minutes)",
		SchedulePeriod:   cadence.SchedulePeriod, // Schedule's period (TestDefaultScheduleIsTheCadence)
		Monitors:         "auto",
		Sinks:            []string{"stdout"},
		Archive:          true,
		LogRetentionDays: 30,
		ExistingSecrets:  map[string]string{},
		LagAlarmSeconds:  1800,
		BootstrapDir:     "build/lambda",
		Alerts:           AlertsConfig{Enabled: true},
		MaxConcurrency:   10,
		APIQuotaGB:       quota.DefaultGB,
	}
}

// retentionDays are the retentions CloudWatch Logs accepts, in days.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	connectorRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
	stackNameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	rateRe      = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)
	// A complete secret ARN ends in the 6-character suffix Secrets Manager
	// adds; a partial ARN would force a "-??????" wildcard into every grant.
	kmsKeyArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	secretArnRe = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
)

// ConfigFromContext reads every context key through get (usually
// app.Node().TryGetContext), applies defaults for the missing ones and
// validates the result. All problems are reported at once, each naming its
// context key. Values may come typed (cdk.json) or as strings (-c key=value).
func ConfigFromContext(get func(key string) any) (Config, error) {
	c := DefaultConfig()
	p := parser{get: get}

	c.StackName = p.str(keyStackName, c.StackName)
	c.Connectors = p.list(keyConnectors, c.Connectors)
	c.Schedule = p.str(keySchedule, c.Schedule)
	c.Monitors = strings.Join(p.list(keyMonitors, []string{c.Monitors}), ",")
	c.ExtraMonitors = p.extraMonitors()
	c.Sinks = p.list(keySinks, c.Sinks)
	c.Archive = p.boolean(keyArchive, c.Archive)
	c.LogRetentionDays = p.integer(keyLogRetentionDays, c.LogRetentionDays)
	c.AlarmEmail = p.str(keyAlarmEmail, "")
	c.ExistingSecrets = p.strMap(keyExistingSecretArns)
	c.LagAlarmSeconds = p.integer(keyLagAlarmSeconds, c.LagAlarmSeconds)
	c.BootstrapDir = p.str(keyBootstrapDir, c.BootstrapDir)
	c.CollectConcurrency = p.integer(keyCollectConcurrency, 0)
	c.TestconnConcurrency = p.integer(keyTestconnConcurrency, 0)
	c.SecretsKMSKeyArn = p.str(keySecretsKMSKeyArn, "")
	c.MaxConcurrency = p.integer(keyMaxConcurrency, c.MaxConcurrency)
	c.APIQuotaGB = p.apiQuotaGB(c.APIQuotaGB)
	periodMinutes := p.integer(keySchedulePeriod, 0)
	c.Alerts = p.alertsFromContext(c.Alerts)

	if err := errors.Join(p.errs...); err != nil {
		return Config{}, err
	}
	c.SchedulePeriod = time.Duration(periodMinutes) * time.Minute
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every field (and that the bootstrap binaries exist) and
// returns all problems joined. For a rate() schedule it also sets
// SchedulePeriod.
func (c *Config) Validate() error {
	var p problems
	c.checkNames(&p)
	c.checkSchedule(&p)
	c.checkMonitors(&p)
	c.checkSinks(&p)
	c.checkAccountSettings(&p)
	c.checkExistingSecrets(&p)
	c.checkNumbers(&p)
	c.checkQuota(&p)
	c.checkBootstrap(&p)
	return errors.Join(p.errs...)
}

// checkNames checks the stack name and the connector names (valid, none twice).
func (c *Config) checkNames(p *problems) {
	if !stackNameRe.MatchString(c.StackName) {
		p.fail(keyStackName, "%q is not a CloudFormation stack name; use letters, digits and '-', starting with a letter", c.StackName)
	}
	if len(c.Connectors) == 0 {
		p.fail(keyConnectors, "no connector; name at least one, e.g. [\"default\"]")
	}
	seen := map[string]bool{}
	for _, n := range c.Connectors {
		switch {
		case !connectorRe.MatchString(n):
			p.fail(keyConnectors, "%q is not a connector name; use 1-32 lower-case letters, digits and '-' (not at either end)", n)
		case seen[n]:
			p.fail(keyConnectors, "%q is listed twice", n)
		}
		seen[n] = true
	}
}

// checkSchedule checks the schedule expression and sets SchedulePeriod from a rate(); a cron()
// needs schedulePeriodMinutes. The alarms need a period between 1 minute and 1 day.
func (c *Config) checkSchedule(p *problems) {
	period, err := schedulePeriod(c.Schedule)
	switch {
	case err != nil:
		p.fail(keySchedule, "%v", err)
	case period == 0 && c.SchedulePeriod == 0:
		p.fail(keySchedulePeriod, "a cron() schedule needs the time between runs in minutes, for the \"no successful run\" alarm")
	case period == 0:
		// cron(): keep the period that was given
	case c.SchedulePeriod != 0 && c.SchedulePeriod != period:
		p.fail(keySchedulePeriod, "%v disagrees with schedule %s; leave it out for rate() schedules", c.SchedulePeriod, c.Schedule)
	default:
		c.SchedulePeriod = period
	}
	if err == nil && c.SchedulePeriod != 0 && (c.SchedulePeriod < time.Minute || c.SchedulePeriod > 24*time.Hour) {
		key := keySchedule
		if period == 0 {
			key = keySchedulePeriod
		}
		p.fail(key, "runs every %v; the alarms need between 1 minute and 1 day between runs", c.SchedulePeriod)
	}
}

// checkMonitors applies the functions' own rules for CALM_EXTRA_MONITORS and CALM_MONITORS
// (monitor.Table.SettingProblems, with the extra monitors known) to the list as they split it.
func (c *Config) checkMonitors(p *problems) {
	for _, msg := range c.monitorTable(p).SettingProblems(monitorItems(c.Monitors)) {
		p.fail(keyMonitors, "%s", msg)
	}
}

// checkSinks applies the collect function's own rule (spec.ForLambda on CALM_SINKS), so the
// stack never writes sinks its function refuses at start, and wants at least one sink.
func (c *Config) checkSinks(p *problems) {
	specs, err := spec.ForLambda(c.Sinks)
	for _, e := range spec.Problems(err) {
		p.fail(keySinks, "%v", e)
	}
	for _, sp := range specs {
		if sp.Kind == spec.S3 {
			p.fail(keySinks, "%q: the stack grants the function only its own archive bucket; set archive to true instead", sp.Raw)
		}
	}
	if len(c.Sinks) == 0 && !c.Archive {
		p.fail(keySinks, "no sink: with archive false, name at least one, e.g. [\"stdout\"]")
	}
}

// checkAccountSettings checks the log retention, the secrets' KMS key and the alarm e-mail.
func (c *Config) checkAccountSettings(p *problems) {
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		p.fail(keyLogRetentionDays, "%d is not a CloudWatch Logs retention; use one of %s", c.LogRetentionDays, joinInts(retentionDays))
	}
	if c.SecretsKMSKeyArn != "" && !kmsKeyArnRe.MatchString(c.SecretsKMSKeyArn) {
		p.fail(keySecretsKMSKeyArn, "%q is not a KMS key ARN like arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (an alias will not do)", c.SecretsKMSKeyArn)
	}
	if c.AlarmEmail != "" {
		if a, err := mail.ParseAddress(c.AlarmEmail); err != nil || a.Address != c.AlarmEmail {
			p.fail(keyAlarmEmail, "%q is not a plain e-mail address like ops@example.com", c.AlarmEmail)
		}
	}
}

// checkExistingSecrets checks that each imported secret belongs to a listed connector and is a
// complete secret ARN.
func (c *Config) checkExistingSecrets(p *problems) {
	for _, name := range slices.Sorted(maps.Keys(c.ExistingSecrets)) {
		arn := c.ExistingSecrets[name]
		if !slices.Contains(c.Connectors, name) {
			p.fail(keyExistingSecretArns, "%q is not one of the connectors %v; add it to %q or remove it here", name, c.Connectors, keyConnectors)
		}
		if !secretArnRe.MatchString(arn) {
			p.fail(keyExistingSecretArns, "%s: %q is not a complete secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-abcdef, as shown in the console)", name, arn)
		}
	}
}

// checkNumbers checks the lag threshold and the concurrency settings.
func (c *Config) checkNumbers(p *problems) {
	if c.LagAlarmSeconds < 60 {
		p.fail(keyLagAlarmSeconds, "%d is below 60 seconds; collection runs lag by a few minutes by design", c.LagAlarmSeconds)
	}
	if c.CollectConcurrency < 0 {
		p.fail(keyCollectConcurrency, "%d is negative; use 0 (unreserved) or a positive number", c.CollectConcurrency)
	}
	if c.MaxConcurrency < 2 || c.MaxConcurrency > 1000 {
		p.fail(keyMaxConcurrency, "%d is outside 2-1000, the maximum concurrency an SQS event source allows", c.MaxConcurrency)
	}
	if c.TestconnConcurrency < 0 {
		p.fail(keyTestconnConcurrency, "%d is negative; use 0 (unreserved) or a positive number", c.TestconnConcurrency)
	}
}

// checkBootstrap checks that the Lambda binaries `make build` writes are there.
func (c *Config) checkBootstrap(p *problems) {
	if c.BootstrapDir == "" {
		p.fail(keyBootstrapDir, "empty; name the directory holding collect/bootstrap and testconn/bootstrap")
		return
	}
	for _, fn := range []string{"collect", "testconn"} {
		path := filepath.Join(c.BootstrapDir, fn, "bootstrap")
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			p.fail(keyBootstrapDir, "%s is missing; run `make build` first (it writes the Lambda binaries there)", path)
		}
	}
}

// schedulePeriod returns the period of a rate() expression, 0 for a cron()
// expression (its period cannot be derived) and an error for anything else.
func schedulePeriod(expr string) (time.Duration, error) {
	if strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")") {
		return 0, nil
	}
	m := rateRe.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("%q is not a schedule; use rate(N minutes|hours|days) or cron(...), e.g. \"rate(5 minutes)\"", expr)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q: the rate must be a positive number", expr)
	}
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	if (n == 1) != !strings.HasSuffix(m[2], "s") {
		return 0, fmt.Errorf("%q: EventBridge wants the singular unit for 1 and the plural otherwise, e.g. rate(1 minute), rate(5 minutes)", expr)
	}
	return time.Duration(n) * unit, nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
