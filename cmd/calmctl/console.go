package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/console"
	"github.com/calm-collector/calm-collector/internal/funcurl"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/state"
)

const consoleUsage = `usage: calmctl console [--addr 127.0.0.1:PORT] [--connectors-dir DIR | --secret-file F... | --secret-id [NAME=]ID...]
        [--function-url URL] [--state DIR | --state dynamodb://TABLE] [--records FILE] [--force-listen]

Serves the local web console: add a connector (the fields of "+ Add Connector → Web Service", or
the BTP service key pasted whole), test it, save it when the test passes, and watch collection
(last completed window, lag, records per window over the last day, last error).

"Collect now" on a stored connector runs one scheduled collection, like calmctl collect: the
--monitors given (default auto), checkpoints in --state, records appended to --records. It is the
only way the console writes state. (Not with --function-url alone: the deployed function collects.)

Connectors live in --connectors-dir (one <name>.json per connector, mode 0600), or are the
--secret-file / --secret-id secrets given (repeatable). With --function-url the tests and saves
run in the deployed testconn function (requests signed with your AWS credentials).
The console listens on loopback only (it has no login); --force-listen overrides that.
--addr 127.0.0.1:0 takes any free port; the first line printed says which.
`

// consoleExamples are run by TestHelpExamplesRun, each until the console listens (key.json: the
// simulator's connector secret).
var consoleExamples = []string{
	"calmctl console --secret-file key.json --addr 127.0.0.1:0",
	"calmctl console --connectors-dir connectors --records records.ndjson --addr 127.0.0.1:0",
}

// runConsole is `calmctl console`.
func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, code, done := parseConsoleArgs(args, stdout, stderr)
	if done {
		return code
	}
	usageErr := func(format string, v ...any) int {
		fmt.Fprintf(stderr, "calmctl console: "+format+"\n", v...)
		return 2
	}
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Listen first: a refused address is a usage error before anything else is set up.
	ln, err := console.Listen(a.addr, a.force)
	if err != nil {
		return usageErr("%v", err)
	}
	defer ln.Close()
	cfg, err := a.config(ctx, logger)
	if err != nil {
		return usageErr("%v", err)
	}
	c, err := console.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(stdout, "calm-collector console on http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	if err := c.Serve(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "calmctl console: %v\n", err)
		return 1
	}
	return 0
}

// consoleArgs are the flags of `calmctl console`.
type consoleArgs struct {
	addr, dir, functionURL, stateSpec, records string
	force, verbose                             bool
	timeout, schedule                          time.Duration
	monitors                                   []string // empty: the test probes its defaults, "Collect now" takes "auto"
	extra                                      []monitor.Monitor
	files, ids                                 listFlag
}

// parseConsoleArgs reads and checks the flags of `calmctl console`; done is set, with the exit
// code, for -h and for flags that are wrong (said on stderr).
func parseConsoleArgs(args []string, stdout, stderr io.Writer) (a consoleArgs, code int, done bool) {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.Usage = usageFunc(fs, consoleUsage, consoleExamples...)
	fs.StringVar(&a.addr, "addr", "127.0.0.1:8070", "listen address (loopback)")
	fs.StringVar(&a.dir, "connectors-dir", ".calm-connectors", "directory of connector secret files <name>.json")
	fs.StringVar(&a.functionURL, "function-url", "", "URL of the deployed testconn function: tests and saves run there")
	fs.StringVar(&a.stateSpec, "state", ".calm-state", "state store for the status view and Collect now: a directory or dynamodb://TABLE")
	fs.StringVar(&a.records, "records", "out/records.ndjson", "collected records NDJSON file for the status charts; Collect now appends to it")
	fs.BoolVar(&a.force, "force-listen", false, "listen on a non-loopback address (the console has no login)")
	monitors := fs.String("monitors", "", "comma list of monitors the test probes (default "+strings.Join(monitor.Defaults(), ",")+") and \"Collect now\" collects (default auto)")
	extraFile := fs.String("extra-monitors", "", extraMonitorsHelp)
	fs.DurationVar(&a.timeout, "timeout", conntest.DefaultTimeout, "time limit of each check")
	fs.DurationVar(&a.schedule, "schedule", cadence.SchedulePeriod, "time between scheduled collections (the stack's schedule, or your cron's): the status view colours each lag against it")
	fs.BoolVar(&a.verbose, "v", false, "log every request to stderr")
	fs.Var(&a.files, "secret-file", "connector secret file, repeatable")
	fs.Var(&a.ids, "secret-id", "Secrets Manager secret [NAME=]ID or ARN, repeatable")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return a, code, true
	}
	var problem string
	extra, tab, err := readExtraMonitors(*extraFile)
	a.extra = extra
	switch {
	case fs.NArg() > 0:
		problem = fmt.Sprintf("unexpected arguments %q; see calmctl console -h", fs.Args())
	case a.timeout <= 0:
		problem = "--timeout must be positive"
	case err != nil:
		problem = err.Error()
	case a.schedule <= 0:
		problem = "--schedule must be positive, e.g. 5m"
	case strings.TrimSpace(*monitors) != "":
		if a.monitors, err = tab.Parse(*monitors); err != nil {
			problem = fmt.Sprintf("--monitors: %v", err)
		}
	}
	if problem != "" {
		fmt.Fprintf(stderr, "calmctl console: %s\n", problem)
		return a, 2, true
	}
	return a, 0, false
}

// config is the console's configuration: where its connectors live (the secrets given, the
// function URL, or the directory), the state store and the records. AWS is loaded only when
// something needs it.
func (a consoleArgs) config(ctx context.Context, logger *slog.Logger) (console.Config, error) {
	var awsCfg *aws.Config
	if len(a.ids) > 0 || a.functionURL != "" || strings.HasPrefix(a.stateSpec, state.DynamoPrefix) {
		c, err := loadAWS(ctx)
		if err != nil {
			return console.Config{}, err
		}
		awsCfg = &c
	}
	cfg := console.Config{Monitors: a.monitors, Extra: a.extra, TestTimeout: a.timeout, Records: a.records, Schedule: a.schedule, Logger: logger}
	switch {
	case len(a.files) > 0 || len(a.ids) > 0:
		sources, err := fixedConnectors(a.files, a.ids, awsCfg)
		if err != nil {
			return console.Config{}, err
		}
		cfg.Connectors = console.Fixed(sources)
	case a.functionURL == "":
		cfg.Connectors = console.Dir(a.dir)
	}
	if a.functionURL != "" {
		if _, err := funcurl.Parse(a.functionURL); err != nil {
			return console.Config{}, fmt.Errorf("--function-url: %w", err)
		}
		cfg.Remote = &console.Remote{URL: a.functionURL, Caller: &funcurl.Caller{AWS: *awsCfg}}
	}
	if a.stateSpec != "" {
		st := &lazyState{spec: a.stateSpec, aws: awsCfg}
		cfg.State, cfg.StateName = st, a.stateSpec
		cfg.OpenStore = func(ctx context.Context) (collect.Store, error) { return st.open(ctx) }
		cfg.Owner = "calmctl console " + strings.TrimPrefix(owner(), "calmctl ")
	}
	return cfg, nil
}

// fixedConnectors are the connectors of --secret-file and --secret-id ([NAME=]ID), by key; two
// with one key are refused.
func fixedConnectors(files, ids []string, awsCfg *aws.Config) (map[string]secrets.Source, error) {
	sources := map[string]secrets.Source{}
	add := func(key string, src secrets.Source) error {
		if _, dup := sources[key]; dup {
			return fmt.Errorf("two connectors are named %q: name them with --secret-id NAME=ID", key)
		}
		sources[key] = src
		return nil
	}
	for _, f := range files {
		if err := add(console.KeyFor(f), secrets.File(f)); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		name, secretID, ok := strings.Cut(id, "=")
		if !ok || strings.HasPrefix(id, "arn:") {
			name, secretID = console.KeyFor(id), id
		}
		if secretID == "" {
			return nil, fmt.Errorf("--secret-id %q: no secret id after the name", id)
		}
		if err := add(name, secrets.SecretsManager(secretsmanager.NewFromConfig(*awsCfg), secretID, 0)); err != nil {
			return nil, err
		}
	}
	return sources, nil
}

// lazyState opens the state store on first use, and reads a missing state directory as "no
// checkpoints yet" instead of creating it: the status view only looks. "Collect now" opens it for
// writing (creating the directory).
type lazyState struct {
	spec string
	aws  *aws.Config

	mu    sync.Mutex
	store state.Store
}

func (l *lazyState) List(ctx context.Context, tenant string) ([]state.Checkpoint, error) {
	if !strings.HasPrefix(l.spec, state.DynamoPrefix) {
		if _, err := os.Stat(l.spec); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	s, err := l.open(ctx)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, tenant)
}

// open opens the store once (a state directory is created).
func (l *lazyState) open(ctx context.Context) (state.Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		s, err := state.Open(ctx, l.spec, l.aws)
		if err != nil {
			return nil, err
		}
		l.store = s
	}
	return l.store, nil
}
