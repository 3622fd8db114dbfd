package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/alert"
	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/sink/spec"
	"github.com/calm-collector/calm-collector/internal/state"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const collectUsage = `usage: calmctl collect (--secret-file F | --secret-id ID) [--state DIR | --state dynamodb://TABLE]
        [--out FILE | --out -] [--sink s3://BUCKET/PREFIX | otlp+https://HOST]... [--monitors auto | all | hm,jam,...]
        [--from RFC3339 --to RFC3339] [--resolution 5m --lag 2m --lookback 1h] [--interval 5m] [--timeout D]
        [--record DIR [--redact-services A,B]] [--now RFC3339]

Without --from/--to: a scheduled run that goes on from the checkpoints in --state.
With them: a backfill of that range; checkpoints are left alone.
A scheduled run stops after --timeout (default: --interval, how often it is scheduled), saving
what is complete; the rest follows next run.
Exit status: 0 every monitor ok, 1 a monitor failed or another run holds the lease, 2 usage or
settings, 3 incomplete: the run stopped at its deadline with work left, or a window failed an
invariant of a complete window (docs/design.md); nothing is lost, the rest follows next run.
The summary is a table on stderr, or JSON on stdout with --json. A backfill stopped early
(Ctrl-C, --timeout) prints the command that collects the rest.
With --record DIR every HTTP exchange of the run is written, redacted, as a transcript, with the
run's clock, settings and what it delivered (docs/transcripts.md); monitors then run one at a time.
`

// collectExamples are run by TestHelpExamplesRun (key.json: the simulator's connector secret).
var collectExamples = []string{
	"calmctl collect --secret-file key.json --out records.ndjson",
	"calmctl collect --secret-file key.json --monitors hm,jam --out -",
	"calmctl collect --secret-file key.json --out records.ndjson --json",
	"calmctl collect --secret-file key.json --from 2026-11-25T06:00:00Z --to 2026-11-25T08:00:00Z --out backfill.ndjson",
	"calmctl collect --secret-file key.json --out /dev/null --state state-dir",
}

// runCollect is `calmctl collect`: one collection run, like the Lambda's, from a terminal.
func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, code, done := parseCollectArgs(args, stdout, stderr)
	if done {
		return code
	}
	usageErr := func(format string, v ...any) int {
		fmt.Fprintf(stderr, "calmctl collect: "+format+"\n", v...)
		return 2
	}
	plan, err := a.check()
	if err != nil {
		return usageErr("%v", err)
	}
	if runTimeout := a.runTimeout(plan.backfill != nil); runTimeout > 0 {
		// The whole command is bounded (a slow secret store or server included); no new work
		// starts in the last quarter (at most the usual margin), so the run ends in time.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, runTimeout)
		defer cancel()
		a.cfg.DeadlineMargin = min(a.cfg.DeadlineMargin, runTimeout/4)
	}
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	r, closeSinks, err := a.runner(ctx, plan, logger, stdout, stderr)
	if err != nil {
		return usageErr("%v", err)
	}
	var sum collect.Summary
	defer func() { closeSinks(sum) }()
	sum = r.Run(ctx, collect.Request{Backfill: plan.backfill})
	if err := a.report(sum, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "calmctl collect: write the summary: %v\n", err)
	}
	if plan.backfill != nil {
		writeResume(stderr, args, *plan.backfill, sum)
	}
	switch {
	case sum.OK:
		return 0
	case sum.Incomplete && sum.Error == "" && sum.Skipped == "" && sum.Failed() == 0:
		return 3
	}
	return 1
}

// collectArgs are the flags of `calmctl collect`.
type collectArgs struct {
	secretFile, secretID, stateSpec, out, monitors, from, to string
	eventBus, deadLetter, extraMonitors                      string
	verbose, json                                            bool
	interval, timeout                                        time.Duration
	sinks                                                    listFlag
	cfg                                                      collect.Config
	rec                                                      recordFlags
}

// parseCollectArgs reads the flags of `calmctl collect`; done is set, with the exit code, for
// -h and for flags that do not parse.
func parseCollectArgs(args []string, stdout, stderr io.Writer) (a collectArgs, code int, done bool) {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.Usage = usageFunc(fs, collectUsage, collectExamples...)
	a.cfg = collect.DefaultConfig()
	def := &a.cfg
	fs.StringVar(&a.secretFile, "secret-file", "", "connector secret file (connector fields or a BTP service key)")
	fs.StringVar(&a.secretID, "secret-id", "", "AWS Secrets Manager secret id or ARN holding the connector")
	fs.StringVar(&a.stateSpec, "state", ".calm-state", "state store: a directory or dynamodb://TABLE")
	fs.StringVar(&a.out, "out", "", `append NDJSON records to FILE ("-": stdout)`)
	fs.StringVar(&a.monitors, "monitors", "auto", "auto (confirmed scopes the token grants), all, or a comma list of monitor ids: "+strings.Join(collect.MonitorIDs(), ","))
	fs.StringVar(&a.extraMonitors, "extra-monitors", "", extraMonitorsHelp)
	fs.StringVar(&a.from, "from", "", "backfill start (RFC 3339)")
	fs.StringVar(&a.to, "to", "", "backfill end (RFC 3339)")
	fs.BoolVar(&a.verbose, "v", false, "log progress and debug details to stderr")
	fs.BoolVar(&a.json, "json", false, "print the run's summary as JSON on stdout instead of the table on stderr")
	fs.DurationVar(&a.interval, "interval", cadence.SchedulePeriod, "how often this command is scheduled (e.g. by cron): the default --timeout of a scheduled run")
	fs.DurationVar(&a.timeout, "timeout", 0, "stop the run after this long (default --interval for a scheduled run, none for a backfill); a run stopped with work left exits 3")
	a.rec.register(fs)
	fs.StringVar(&a.eventBus, "event-bus", "", "put status events and alert-rule events (rules: CALM_ALERT_RULES) on this EventBridge bus, name or ARN (docs/alerts.md)")
	fs.StringVar(&a.deadLetter, "dead-letter", "", `where records a sink refuses for good (too large for its destination) are kept: FILE or s3://BUCKET/PREFIX (default: deadletter.ndjson in the --state directory, else ./calm-deadletter.ndjson)`)
	fs.Var(&a.sinks, "sink", "extra sink, repeatable: s3://BUCKET/PREFIX, otlp+https://HOST[:PORT][/BASE] (headers from CALM_OTLP_HEADERS), file:PATH, stdout")
	fs.DurationVar(&def.Resolution, "resolution", def.Resolution, "window size: 1m, 5m, 10m, 15m, 30m, 1h or 24h")
	fs.DurationVar(&def.Lag, "lag", def.Lag, "leave the newest data this long for late points")
	fs.DurationVar(&def.Lookback, "lookback", def.Lookback, "how far back the first run of a monitor starts")
	fs.DurationVar(&def.MaxCatchUp, "max-catchup", def.MaxCatchUp, "most time one run catches up after an outage")
	fs.DurationVar(&def.Span, "span", def.Span, "time covered by one request series")
	fs.DurationVar(&def.EventLookback, "event-lookback", def.EventLookback, "status events: how far back each run asks")
	fs.IntVar(&def.Concurrency, "concurrency", def.Concurrency, "monitors collected at the same time")
	fs.DurationVar(&def.Settle, "settle", def.Settle, "how long a delivered window is re-checked for late data (0: never, at most 24h)")
	fs.DurationVar(&def.LeaseTTL, "lease-ttl", 2*time.Minute, "tenant lease duration (renewed while the run lasts)")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return a, code, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "calmctl collect: unexpected arguments %q; see calmctl collect -h\n", fs.Args())
		return a, 2, true
	}
	return a, 0, false
}

// collectPlan is what the checked flags ask for: the sink specs, the events (--event-bus and
// CALM_ALERT_RULES) and, for a backfill, its range.
type collectPlan struct {
	specs    []string
	parsed   []spec.Spec
	alerts   alert.Config
	backfill *collect.Range
}

// check checks the flags and reports every problem at once.
func (a *collectArgs) check() (collectPlan, error) {
	var problems []error
	if (a.secretFile == "") == (a.secretID == "") {
		problems = append(problems, errors.New("give exactly one of --secret-file and --secret-id"))
	}
	a.cfg.Monitors = collect.SplitList(a.monitors)
	if err := a.readExtraMonitors(); err != nil {
		problems = append(problems, err)
	}
	problems = append(problems, a.rec.check()...)
	if a.rec.dir != "" {
		a.cfg.Concurrency = collect.RecordingConcurrency // a replay asks in the recorded order
	}
	if a.interval <= 0 {
		problems = append(problems, fmt.Errorf("--interval %s: use a positive duration such as 5m", a.interval))
	}
	if a.timeout < 0 {
		problems = append(problems, fmt.Errorf("--timeout %s is negative: use a positive duration such as 4m, or leave it out", a.timeout))
	}
	if err := a.cfg.Validate(); err != nil {
		problems = append(problems, err)
	}
	var p collectPlan
	p.specs = []string(a.sinks)
	switch {
	case a.out == "-":
		p.specs = append([]string{"stdout"}, p.specs...)
	case a.out != "":
		p.specs = append([]string{"file:" + a.out}, p.specs...)
	case len(p.specs) == 0:
		p.specs = []string{"stdout"}
	}
	var err error
	if p.parsed, err = spec.ParseList(p.specs); err != nil {
		problems = append(problems, err)
	}
	if a.json && slices.ContainsFunc(p.parsed, func(s spec.Spec) bool { return s.Kind == spec.Stdout }) {
		problems = append(problems, errors.New("--json prints the summary on stdout, where the records go too: give --out FILE, or leave out --json"))
	}
	p.alerts, err = alert.ConfigFromEnv(func(k string) string {
		if k == "CALM_EVENT_BUS" {
			return a.eventBus
		}
		return os.Getenv(k)
	})
	if err != nil {
		problems = append(problems, errors.New(strings.ReplaceAll(err.Error(), "CALM_EVENT_BUS", "--event-bus")))
	}
	if a.from != "" || a.to != "" {
		r, err := parseRange(a.from, a.to)
		if err != nil {
			problems = append(problems, err)
		}
		p.backfill = &r
	}
	return p, errors.Join(problems...)
}

// runTimeout bounds the run: --timeout, else --interval for a scheduled run; 0 for none.
func (a *collectArgs) runTimeout(backfill bool) time.Duration {
	if a.timeout == 0 && !backfill {
		return a.interval
	}
	return a.timeout
}

// runner opens what the run needs: AWS only when something needs it, the connector secret, the
// Cloud ALM client, the state store and the sinks. It returns the runner and what closes the
// sinks.
func (a *collectArgs) runner(ctx context.Context, p collectPlan, logger *slog.Logger, stdout, stderr io.Writer) (*collect.Runner, func(collect.Summary), error) {
	var awsCfg *aws.Config
	needAWS := a.secretID != "" || p.alerts.Bus != "" || strings.HasPrefix(a.deadLetterSpec(), "s3://") || strings.HasPrefix(a.stateSpec, state.DynamoPrefix) ||
		slices.ContainsFunc(p.parsed, func(s spec.Spec) bool {
			return s.Kind == spec.S3 || s.Kind == spec.OTLP && os.Getenv(sink.EnvOTLPHeadersSecret) != ""
		})
	if needAWS {
		c, err := loadAWS(ctx)
		if err != nil {
			return nil, nil, err
		}
		awsCfg = &c
	}
	secret, err := readSecret(ctx, a.secretFile, a.secretID, awsCfg)
	if err != nil {
		return nil, nil, err
	}
	rec, err := a.rec.create(secret)
	if err != nil {
		return nil, nil, fmt.Errorf("--record: %w", err)
	}
	client, err := collect.Connect(secret, "", collect.ClientOptions{Logger: logger, UserAgent: "calm-collector calmctl",
		Concurrency: a.cfg.Concurrency, Recorder: rec})
	if err != nil {
		return nil, nil, fmt.Errorf("connector settings: %w", err)
	}
	store, err := state.Open(ctx, a.stateSpec, awsCfg)
	if err != nil {
		return nil, nil, err
	}
	now := a.rec.clock()
	rc, err := startRecording(rec, store, client.Settings(), now)
	if err != nil {
		return nil, nil, err
	}
	otlp, err := sink.OTLPOptionsFromEnv(ctx, os.Getenv, awsCfg)
	if err != nil {
		return nil, nil, fmt.Errorf("otlp sink settings: %w", err)
	}
	opened, err := sink.OpenAll(ctx, p.specs, sink.Deps{AWS: awsCfg, Stdout: stdout, Logger: logger, OTLP: otlp,
		S3PathStyle: os.Getenv("AWS_ENDPOINT_URL_S3") != ""})
	if err != nil {
		return nil, nil, err
	}
	runSinks := make([]collect.Sink, len(opened))
	for i, s := range opened {
		runSinks[i] = s
	}
	if p.alerts.Bus != "" {
		// Last, as in the Lambda: a window's events are put once every data sink has accepted it.
		runSinks = append(runSinks, &alert.Sink{Bus: p.alerts.Bus, Events: eventbridge.NewFromConfig(*awsCfg), Store: store, Rules: p.alerts.Rules, Logger: logger})
	}
	deadLetter, err := sink.OpenDeadLetter(a.deadLetterSpec(), sink.Deps{AWS: awsCfg, S3PathStyle: os.Getenv("AWS_ENDPOINT_URL_S3") != ""})
	if err != nil {
		return nil, nil, fmt.Errorf("--dead-letter: %w", err)
	}
	if rc != nil {
		runSinks = append(runSinks, rc.Sink()) // last: it counts what every sink accepted
	}
	closeSinks := func(sum collect.Summary) {
		if err := deadLetter.Close(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintf(stderr, "calmctl collect: close %s: %v\n", deadLetter.Name(), err)
		}
		for _, s := range opened {
			if err := s.Close(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(stderr, "calmctl collect: close %s: %v\n", s.Name(), err)
			}
		}
		closeRecording(rc, client, a.cfg, p.backfill, sum, stderr)
	}
	r := (&collect.Runner{
		Config: a.cfg, Store: store, Sinks: runSinks, DeadLetter: deadLetter, Owner: owner(), Logger: logger,
		Now: func() time.Time { return now },
		Progress: func(pr collect.Progress) {
			if pr.Total > a.cfg.Span { // long runs only: one line per span
				fmt.Fprintf(stderr, "%-9s %5.1f%%  %s of %s  %d windows  %d points\n", pr.Monitor,
					100*float64(pr.Done)/float64(pr.Total), pr.Done, pr.Total, pr.Windows, pr.Points)
			}
		},
	}).For(client)
	return r, closeSinks, nil
}

// deadLetterSpec is --dead-letter, or its default beside the state: deadletter.ndjson in the
// --state directory, ./calm-deadletter.ndjson with a DynamoDB state.
func (a *collectArgs) deadLetterSpec() string {
	switch {
	case a.deadLetter != "":
		return a.deadLetter
	case strings.HasPrefix(a.stateSpec, state.DynamoPrefix):
		return "calm-deadletter.ndjson"
	}
	return filepath.Join(a.stateSpec, "deadletter.ndjson")
}

// parseRange reads --from and --to.
func parseRange(from, to string) (collect.Range, error) {
	var errs []error
	parse := func(name, v string) time.Time {
		if v == "" {
			errs = append(errs, fmt.Errorf("--%s is missing: a backfill needs both --from and --to", name))
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s %q is not an RFC 3339 time like 2026-11-25T10:00:00Z", name, v))
		}
		return t.UTC()
	}
	r := collect.Range{From: parse("from", from), To: parse("to", to)}
	if len(errs) == 0 && !r.From.Before(r.To) {
		errs = append(errs, fmt.Errorf("--from %s is not before --to %s", from, to))
	}
	return r, errors.Join(errs...)
}

// readSecret returns the connector secret from a file or from Secrets Manager.
func readSecret(ctx context.Context, file, id string, awsCfg *aws.Config) ([]byte, error) {
	var src secrets.Source
	if file != "" {
		src = secrets.File(file)
	} else {
		src = secrets.SecretsManager(secretsmanager.NewFromConfig(*awsCfg), id, 0)
	}
	b, err := src.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the connector secret: %w", err)
	}
	return b, nil
}

// owner names this process in the tenant lease.
func owner() string {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("calmctl %s@%s pid %d", name, host, os.Getpid())
}

// readExtraMonitors reads the --extra-monitors file into the configuration.
func (a *collectArgs) readExtraMonitors() error {
	extra, _, err := readExtraMonitors(a.extraMonitors)
	a.cfg.Extra = extra
	return err
}
