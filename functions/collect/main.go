// Command collect is the scheduled Lambda: it collects every enabled Cloud ALM monitor of a
// connector window by window into the configured sinks (see internal/collect).
package main

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/calm-collector/calm-collector/internal/alert"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/fleet/projection"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/version"
)

func main() { os.Exit(run()) }

// memoryLimit is a soft limit for the Go heap at three quarters of the function's memory: the
// garbage collector works harder before the invocation runs out of memory on a large landscape.
// An explicit GOMEMLIMIT wins; outside Lambda there is none.
func memoryLimit(getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	mb, err := strconv.Atoi(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"))
	if err != nil || mb <= 0 {
		return 0, false
	}
	return int64(mb) << 20 / 4 * 3, true
}

func run() int {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	ctx := context.Background()
	if limit, ok := memoryLimit(os.Getenv); ok {
		debug.SetMemoryLimit(limit)
	}

	env, err := envFrom(os.Getenv)
	if err != nil {
		logger.Error("bad settings: fix the function's environment", "err", err)
		return 1
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		logger.Error("load the AWS configuration", "err", err)
		return 1
	}
	if env.endpoint != "" {
		awsCfg.BaseEndpoint = aws.String(env.endpoint)
	}
	store, err := state.Open(ctx, state.DynamoPrefix+env.table, &awsCfg)
	if err != nil {
		logger.Error("open the state store", "err", err)
		return 1
	}
	otlp, err := sink.OTLPOptionsFromEnv(ctx, os.Getenv, &awsCfg)
	if err != nil {
		logger.Error("bad settings: fix the function's environment", "err", err)
		return 1
	}
	opened, err := sink.OpenAll(ctx, env.sinks, sink.Deps{AWS: &awsCfg, S3PathStyle: env.s3PathStyle, Stdout: os.Stdout, StdoutMaxLine: sink.CloudWatchLogsMaxLine, Logger: logger, OTLP: otlp})
	if err != nil {
		logger.Error("open the sinks", "err", err)
		return 1
	}
	sinks := make([]collect.Sink, len(opened))
	for i, s := range opened {
		sinks[i] = s
	}
	if env.alerts.Bus != "" {
		// Last: a window's events are put only once every data sink has accepted it.
		sinks = append(sinks, &alert.Sink{Bus: env.alerts.Bus, Events: eventbridge.NewFromConfig(awsCfg), Store: store, Rules: env.alerts.Rules, Logger: logger})
	}
	var deadLetter collect.DeadLetter
	if env.deadLetter != "" {
		if deadLetter, err = sink.OpenDeadLetter(env.deadLetter, sink.Deps{AWS: &awsCfg, S3PathStyle: env.s3PathStyle}); err != nil {
			logger.Error("open the dead-letter place", "err", err)
			return 1
		}
	}
	h := &Handler{
		Config: env.collect, SecretID: env.secretID, SecretIDs: env.secretIDs,
		Secrets: newSecretReader(awsCfg, env.secretTTL, env.prefix, append([]string{env.secretID}, slices.Collect(maps.Values(env.secretIDs))...)...),
		Fleet: &Fleet{Prefix: env.prefix, Secrets: secretsmanager.NewFromConfig(awsCfg),
			Queue: sqs.NewFromConfig(awsCfg), QueueURL: env.queueURL, Period: env.period,
			Glue: &projection.Glue{AWS: awsCfg}, Table: env.archiveTable},
		Store: store, Sinks: sinks, DeadLetter: deadLetter,
		EMF: os.Stdout, Logger: logger,
	}
	logger.Info("collect ready", "version", version.String())
	lambda.Start(h.Invoke)
	return 0
}
