package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/funcurl"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/quota"
	"github.com/calm-collector/calm-collector/internal/secrets"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

const testUsage = `usage:
  calmctl test --secret-file FILE | --secret-id ID [--monitors hm,rum] [--json] [--timeout 15s]
               [--record DIR [--redact-services A,B]] [--now RFC3339]
  calmctl test --function-url URL [--secret-file FILE [--save]] [--connector NAME] [--json]

Runs the connection test (settings, reach, token, scopes, api, one probe per monitor) and prints
a table, or the report JSON with --json. With --function-url it asks the deployed testconn
function instead (signed with your AWS credentials): GET tests the stored secret, a
--secret-file is POSTed and tested, --save stores it when the test passes.
With --record DIR every HTTP exchange of the test is written, redacted, as a transcript to
attach to a bug report (docs/transcripts.md).

exit status: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage or settings problem
`

// testExamples are run by TestHelpExamplesRun (key.json: the simulator's connector secret).
var testExamples = []string{
	"calmctl test --secret-file key.json",
	"calmctl test --secret-file key.json --monitors hm,jam --json",
}

// runTest is `calmctl test`.
func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("calmctl test", flag.ContinueOnError)
	fs.Usage = usageFunc(fs, testUsage, testExamples...)
	secretFile := fs.String("secret-file", "", "connector settings file (connector fields or the BTP service key JSON)")
	secretID := fs.String("secret-id", "", "Secrets Manager secret id or ARN holding the connector settings")
	functionURL := fs.String("function-url", "", "URL of the deployed testconn function; the test runs there")
	save := fs.Bool("save", false, "with --function-url and --secret-file: store the settings when the test passes")
	connector := fs.String("connector", "", "with --function-url: the connector name (from CALM_SECRET_IDS) to test or save")
	monitors := fs.String("monitors", "", "comma list of monitors to probe (default auto: "+strings.Join(monitor.Defaults(), ",")+", a missing scope only warns)")
	extraFile := fs.String("extra-monitors", "", extraMonitorsHelp)
	stateSpec := fs.String("state", ".calm-state", "collection's state store (a directory or dynamodb://TABLE), read for the late-data delay collection learned; a directory that does not exist is not read")
	asJSON := fs.Bool("json", false, "print the report as JSON (docs/design.md §3)")
	timeout := fs.Duration("timeout", conntest.DefaultTimeout, "time limit of each check")
	quotaGB := fs.Float64("quota-gb", quota.DefaultGB, "the tenant's monthly fair-use quota of API data in GB (24 unless bought more): the quota check warns above half of it")
	schedule := fs.Duration("schedule", cadence.SchedulePeriod, "time between scheduled runs, for the quota projection")
	settle := fs.Duration("settle", collect.DefaultSettle, "collection's settle horizon (calmctl collect --settle, CALM_SETTLE; 0: no re-check), for the quota projection's re-checks for late data")
	var rf recordFlags
	rf.register(fs)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "calmctl test: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run 'calmctl test -h' for the usage")
		return 2
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usageErr("--timeout must be positive")
	}
	if problems := rf.check(); len(problems) > 0 {
		return usageErr("%v", errors.Join(problems...))
	}
	if *settle < 0 {
		return usageErr("--settle must not be negative (0: collection re-checks nothing for late data)")
	}
	if *quotaGB <= 0 || *schedule <= 0 {
		return usageErr("--quota-gb and --schedule must be positive (the tenant's monthly API quota in GB, the time between scheduled runs)")
	}

	if *functionURL != "" {
		switch {
		case *secretID != "":
			return usageErr("--secret-id does not go with --function-url: the function reads its own secret (GET), or tests a --secret-file (POST)")
		case *save && *secretFile == "":
			return usageErr("--save needs --secret-file: the settings to test and store")
		case *monitors != "":
			return usageErr("--monitors does not go with --function-url: the function tests its configured monitors (CALM_MONITORS)")
		case rf.dir != "" || rf.now != "":
			return usageErr("--record and --now do not go with --function-url: the test runs in the function")
		}
		return testFunctionURL(ctx, *functionURL, *secretFile, *connector, *save, *asJSON, stdout, stderr)
	}
	switch {
	case *save || *connector != "":
		return usageErr("--save and --connector need --function-url")
	case (*secretFile == "") == (*secretID == ""):
		return usageErr("give exactly one of --secret-file and --secret-id (or --function-url)")
	}
	extra, tab, err := readExtraMonitors(*extraFile)
	if err != nil {
		return usageErr("%v", err)
	}
	auto := strings.TrimSpace(*monitors) == "" || strings.EqualFold(strings.TrimSpace(*monitors), "auto")
	ids := tab.Defaults()
	if !auto {
		if ids, err = tab.Parse(*monitors); err != nil {
			return usageErr("--monitors: %v", err)
		}
	}
	raw, err := loadSettings(ctx, *secretFile, *secretID)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl test: %v\n", err)
		return 2
	}
	rec, err := rf.create(raw)
	if err != nil {
		return usageErr("--record: %v", err)
	}
	now := rf.clock()
	report := conntest.Run(ctx, raw, conntest.Options{Monitors: ids, Extra: extra, Auto: auto, Timeout: *timeout,
		QuotaBytes: int64(*quotaGB * 1e9), SchedulePeriod: *schedule, Settle: settleOption(*settle), Recorder: rec, Now: func() time.Time { return now },
		UsualDelay: usualDelayIn(*stateSpec)})
	if rec != nil {
		if err := closeTestTranscript(rec, report, now, raw); err != nil {
			fmt.Fprintf(stderr, "calmctl test: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "transcript written to %s (docs/transcripts.md)\n", rec.Dir())
	}
	if err := printReport(stdout, report, nil, *asJSON); err != nil {
		fmt.Fprintf(stderr, "calmctl test: %v\n", err)
		return 1
	}
	return exitCode(report)
}

// exitCode is 0 when nothing failed, 2 when the settings are at fault, else 1.
func exitCode(r conntest.Report) int {
	switch {
	case r.OK:
		return 0
	case len(r.Failed()) > 0 && r.Failed()[0] == "settings":
		return 2
	}
	return 1
}

// reportBody is a report as the function returns it.
type reportBody struct {
	conntest.Report
	Saved *bool  `json:"saved,omitempty"`
	Error string `json:"error,omitempty"`
}

func printReport(w io.Writer, r conntest.Report, saved *bool, asJSON bool) error {
	if asJSON {
		b, err := json.MarshalIndent(reportBody{Report: r, Saved: saved}, "", "  ")
		if err != nil {
			return fmt.Errorf("encode the report: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if err := conntest.Render(w, r); err != nil {
		return err
	}
	if saved != nil {
		if *saved {
			_, err := fmt.Fprintln(w, "\nsaved: the settings are stored in the connector secret")
			return err
		}
		_, err := fmt.Fprintln(w, "\nnot saved: the stored secret is unchanged")
		return err
	}
	return nil
}

// testFunctionURL asks the deployed testconn function to run the test, with a SigV4-signed
// request (the function URL uses IAM auth).
func testFunctionURL(ctx context.Context, rawURL, file, connector string, save, asJSON bool, stdout, stderr io.Writer) int {
	u, err := funcurl.Parse(rawURL)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl test: --function-url: %v\n", err)
		return 2
	}
	var body []byte
	if file != "" {
		if body, err = os.ReadFile(file); err != nil {
			fmt.Fprintf(stderr, "calmctl test: read the settings: %v\n", err)
			return 2
		}
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl test: load AWS configuration: %v\n", err)
		return 2
	}
	if funcurl.Region(u.Hostname()) == "" && cfg.Region == "" {
		fmt.Fprintln(stderr, "calmctl test: no AWS region: the function URL does not name one; set AWS_REGION")
		return 2
	}
	method, status, data, err := (&funcurl.Caller{AWS: cfg}).Test(ctx, u, connector, body, save)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl test: %v\n", err)
		return 1
	}
	var rb reportBody
	if json.Unmarshal(data, &rb) != nil || rb.Checks == nil {
		fmt.Fprintf(stderr, "calmctl test: %s %s: %s\n", method, u.Redacted(), funcurl.NotAReport(status, data))
		if status >= 400 && status < 500 {
			return 2
		}
		return 1
	}
	if err := printReport(stdout, rb.Report, rb.Saved, asJSON); err != nil {
		fmt.Fprintf(stderr, "calmctl test: %v\n", err)
		return 1
	}
	if rb.Error != "" && !asJSON {
		fmt.Fprintln(stdout, rb.Error)
	}
	if rb.Saved != nil && !*rb.Saved && rb.OK {
		return 1 // the test passed but the function could not store the settings
	}
	return exitCode(rb.Report)
}

// loadSettings reads the connector settings from a file or a Secrets Manager secret. A secret
// that still holds the deploy-time placeholder reads as nothing: the test then says "not filled
// in yet" and what to put there.
func loadSettings(ctx context.Context, file, secretID string) ([]byte, error) {
	var src secrets.Source
	if file != "" {
		src = secrets.File(file)
	} else {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		if ep := os.Getenv("CALM_ENDPOINT_URL"); ep != "" {
			cfg.BaseEndpoint = aws.String(ep)
		}
		src = secrets.SecretsManager(secretsmanager.NewFromConfig(cfg), secretID, 0)
	}
	raw, err := src.Load(ctx)
	if errors.Is(err, secrets.ErrPlaceholder) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the settings: %w", err)
	}
	return raw, nil
}

// closeTestTranscript writes the report and the meta of a recorded connection test.
func closeTestTranscript(rec *transcript.Recorder, r conntest.Report, now time.Time, raw []byte) error {
	werr := rec.WriteJSON(transcript.ReportFile, r)
	cerr := rec.Close(transcript.Meta{Command: "test", Recorded: time.Now().UTC(), Now: now, Settings: settingsOf(raw)})
	return errors.Join(werr, cerr)
}

// usualDelayIn reads the late-data delay that collection learned into the state store at spec
// (collect.UsualDelay), for api-shape. A directory that does not exist holds no delay: it is not
// created.
func usualDelayIn(spec string) func(context.Context, string) (time.Duration, bool, error) {
	return func(ctx context.Context, tenant string) (time.Duration, bool, error) {
		var awsCfg *aws.Config
		if strings.HasPrefix(spec, state.DynamoPrefix) {
			c, err := loadAWS(ctx)
			if err != nil {
				return 0, false, err
			}
			awsCfg = &c
		} else if _, err := os.Stat(spec); errors.Is(err, os.ErrNotExist) {
			return 0, false, nil
		}
		store, err := state.Open(ctx, spec, awsCfg)
		if err != nil {
			return 0, false, err
		}
		return collect.UsualDelay(ctx, store, tenant)
	}
}

// settleOption is conntest.Options.Settle for collection's settle horizon d: 0 (no re-check) is
// negative there, where zero means the default.
func settleOption(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
