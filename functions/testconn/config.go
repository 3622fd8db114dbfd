package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/quota"
	"github.com/calm-collector/calm-collector/internal/secrets"
)

// Config is the function's environment, read and checked once at cold start.
type Config struct {
	// SecretID is the default connector's secret (CALM_SECRET_ID); "" when only SecretIDs is set.
	SecretID string
	// SecretIDs are named connectors (CALM_SECRET_IDS, a JSON object name → secret id/ARN).
	SecretIDs map[string]string
	// SecretTTL is how long a read secret is cached (CALM_SECRET_TTL, default secrets.DefaultTTL).
	SecretTTL time.Duration
	// Allow limits the hosts POSTed settings may point at (CALM_TESTCONN_ALLOWED_HOSTS,
	// CALM_TESTCONN_ALLOW_LOOPBACK).
	Allow conntest.Allowlist
	// Monitors are the monitors tested (CALM_MONITORS: "auto" = the confirmed set, "all", or a list).
	Monitors []string
	// Extra are monitors given as data (CALM_EXTRA_MONITORS, a JSON list of monitor definitions,
	// the collect function's too): tested like the built-in ones.
	Extra []monitor.Monitor
	// MonitorsAuto says Monitors is what "auto" picks (CALM_MONITORS empty or auto): a missing
	// scope then warns instead of failing (see conntest.Options.Auto).
	MonitorsAuto bool
	// Prefix names the connector secrets found by name (CALM_CONNECTOR_PREFIX); "" for none.
	Prefix string
	// EndpointURL overrides the AWS endpoint (CALM_ENDPOINT_URL; moto in tests).
	EndpointURL string
	// SecretsKMSKey is the customer-managed key a connector created at run time is encrypted
	// with (CALM_SECRETS_KMS_KEY, set by the stack from secretsKmsKeyArn; "": the AWS-managed key).
	SecretsKMSKey string
	// QuotaBytes is the tenant's monthly API quota for the quota check (CALM_API_QUOTA_GB,
	// default 24 GB; tenants can buy more).
	QuotaBytes int64
}

// LoadConfig reads the environment through getenv and reports every problem at once, each
// naming its variable and what to do.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	conns, err := secrets.ConnectorsFromEnv(getenv)
	if err != nil {
		errs = append(errs, err)
	}
	c := Config{SecretID: conns.ID, SecretIDs: conns.IDs, Prefix: conns.Prefix, SecretTTL: conns.TTL,
		EndpointURL: strings.TrimSpace(getenv("CALM_ENDPOINT_URL")), SecretsKMSKey: strings.TrimSpace(getenv("CALM_SECRETS_KMS_KEY"))}
	loopback := false
	switch v := strings.ToLower(strings.TrimSpace(getenv("CALM_TESTCONN_ALLOW_LOOPBACK"))); v {
	case "", "false", "0":
	case "true", "1":
		loopback = true
	default:
		errs = append(errs, fmt.Errorf("CALM_TESTCONN_ALLOW_LOOPBACK: %q must be true or false (true only for tests)", v))
	}
	allow, err := conntest.ParseAllowlist(getenv("CALM_TESTCONN_ALLOWED_HOSTS"), loopback)
	if err != nil {
		errs = append(errs, fmt.Errorf("CALM_TESTCONN_ALLOWED_HOSTS: %w", err))
	}
	c.Allow = allow
	extra, err := monitor.Builtin().ParseDefinitions([]byte(getenv("CALM_EXTRA_MONITORS")))
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			errs = append(errs, fmt.Errorf("CALM_EXTRA_MONITORS: %s", line))
		}
	}
	c.Extra = extra
	tab, err := monitor.Builtin().With(extra...)
	if err != nil {
		tab = monitor.Builtin()
	}
	switch v := strings.TrimSpace(getenv("CALM_MONITORS")); strings.ToLower(v) {
	case "", "auto":
		c.Monitors, c.MonitorsAuto = tab.Defaults(), true
	case "all":
		c.Monitors = tab.IDs()
	default:
		// The one rule for a monitors setting, shared with collect and the CDK app.
		var ids []string
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		for _, msg := range tab.SettingProblems(ids) {
			errs = append(errs, fmt.Errorf("CALM_MONITORS: %s", msg))
		}
		c.Monitors, _ = tab.Parse(v)
	}
	quotaBytes, err := quota.ParseGB(getenv(quota.Env))
	if err != nil {
		errs = append(errs, err)
	}
	c.QuotaBytes = quotaBytes
	return c, errors.Join(errs...)
}

// connectorNames returns the names of the configured connectors, sorted, "" (the default) first.
func (c Config) connectorNames() []string {
	var names []string
	if c.SecretID != "" {
		names = append(names, "")
	}
	for n := range c.SecretIDs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
