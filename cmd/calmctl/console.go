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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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

flags:
`

// runConsole is `calmctl console`.
func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, consoleUsage); fs.PrintDefaults() }
	var (
		addr        = fs.String("addr", "127.0.0.1:8070", "listen address (loopback)")
		dir         = fs.String("connectors-dir", ".calm-connectors", "directory of connector secret files <name>.json")
		functionURL = fs.String("function-url", "", "URL of the deployed testconn function: tests and saves run there")
		stateSpec   = fs.String("state", ".calm-state", "state store for the status view and Collect now: a directory or dynamodb://TABLE")
		records     = fs.String("records", "out/records.ndjson", "collected records NDJSON file for the status charts; Collect now appends to it")
		force       = fs.Bool("force-listen", false, "listen on a non-loopback address (the console has no login)")
		monitors    = fs.String("monitors", "", "comma list of monitors the test probes (default "+strings.Join(monitor.Defaults(), ",")+") and \"Collect now\" collects (default auto)")
		timeout     = fs.Duration("timeout", conntest.DefaultTimeout, "time limit of each check")
		verbose     = fs.Bool("v", false, "log every request to stderr")
		files, ids  listFlag
	)
	fs.Var(&files, "secret-file", "connector secret file, repeatable")
	fs.Var(&ids, "secret-id", "Secrets Manager secret [NAME=]ID or ARN, repeatable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "calmctl console: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected arguments %q; see calmctl console -h", fs.Args())
	}
	if *timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	var ids2 []string // empty: the test probes its defaults, "Collect now" takes "auto"
	if strings.TrimSpace(*monitors) != "" {
		var err error
		if ids2, err = monitor.Parse(*monitors); err != nil {
			return usageErr("--monitors: %v", err)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Listen first: a refused address is a usage error before anything else is set up.
	ln, err := console.Listen(*addr, *force)
	if err != nil {
		return usageErr("%v", err)
	}
	defer ln.Close()

	var awsCfg *aws.Config
	if len(ids) > 0 || *functionURL != "" || strings.HasPrefix(*stateSpec, state.DynamoPrefix) {
		c, err := loadAWS(ctx)
		if err != nil {
			return usageErr("%v", err)
		}
		awsCfg = &c
	}

	cfg := console.Config{Monitors: ids2, TestTimeout: *timeout, Records: *records, Logger: logger}
	switch {
	case len(files) > 0 || len(ids) > 0:
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
				return usageErr("%v", err)
			}
		}
		for _, id := range ids {
			name, secretID, ok := strings.Cut(id, "=")
			if !ok || strings.HasPrefix(id, "arn:") {
				name, secretID = console.KeyFor(id), id
			}
			if secretID == "" {
				return usageErr("--secret-id %q: no secret id after the name", id)
			}
			if err := add(name, secrets.SecretsManager(secretsmanager.NewFromConfig(*awsCfg), secretID, 0)); err != nil {
				return usageErr("%v", err)
			}
		}
		cfg.Connectors = console.Fixed(sources)
	case *functionURL == "":
		cfg.Connectors = console.Dir(*dir)
	}
	if *functionURL != "" {
		if _, err := funcurl.Parse(*functionURL); err != nil {
			return usageErr("--function-url: %v", err)
		}
		cfg.Remote = &console.Remote{URL: *functionURL, Caller: &funcurl.Caller{AWS: *awsCfg}}
	}
	if *stateSpec != "" {
		st := &lazyState{spec: *stateSpec, aws: awsCfg}
		cfg.State, cfg.StateName = st, *stateSpec
		cfg.OpenStore = func(ctx context.Context) (collect.Store, error) { return st.open(ctx) }
		cfg.Owner = "calmctl console " + strings.TrimPrefix(owner(), "calmctl ")
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
