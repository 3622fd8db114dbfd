// Command testconn is the connection-test Lambda behind a function URL (docs/design.md §3): GET tests
// the stored connector secret, POST tests settings from the body, POST ?save=true also stores
// them when the test passes.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/version"
)

func main() { os.Exit(run()) }

func run() int {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		log.Error("invalid environment", "err", err)
		return 1
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration", "err", err)
		return 1
	}
	if cfg.EndpointURL != "" {
		awsCfg.BaseEndpoint = aws.String(cfg.EndpointURL)
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	stores := map[string]Store{}
	if cfg.SecretID != "" {
		stores[""] = secrets.SecretsManager(sm, cfg.SecretID, cfg.SecretTTL)
	}
	for name, id := range cfg.SecretIDs {
		stores[name] = secrets.SecretsManager(sm, id, cfg.SecretTTL)
	}
	h := &Handler{Stores: stores, Allow: cfg.Allow, Monitors: cfg.Monitors, Extra: cfg.Extra, MonitorsAuto: cfg.MonitorsAuto, QuotaBytes: cfg.QuotaBytes, Logger: log}
	if cfg.Prefix != "" {
		h.Connector = func(name string) Store {
			return &connectorStore{SecretsManagerSource: secrets.SecretsManager(sm, cfg.Prefix+name, cfg.SecretTTL), api: sm, prefix: cfg.Prefix, name: name, kmsKey: cfg.SecretsKMSKey}
		}
	}
	for name, id := range cfg.SecretIDs {
		if id == cfg.SecretID {
			h.DefaultConnector = name
		}
	}
	log.Info("testconn ready", "version", version.String(), "connectors", cfg.connectorNames(), "monitors", cfg.Monitors,
		"allowed_hosts", cfg.Allow.Patterns, "allow_loopback", cfg.Allow.Loopback)
	lambda.Start(h.Handle)
	return 0
}
