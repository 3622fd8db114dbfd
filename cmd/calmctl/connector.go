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
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/fleet"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

const connectorUsage = `usage:
  calmctl connector add    --stack NAME --name CONNECTOR --secret-file key.json [--interval 15m] [--monitors hm,status]
  calmctl connector list   --stack NAME [--json]
  calmctl connector remove --stack NAME --name CONNECTOR [--recovery-days 7]

A connector is a Secrets Manager secret named calm-collector/STACK/connectors/CONNECTOR; the
deployed collector finds it at its next tick, no deploy needed (docs/deploy.md, "Tenants").
add checks that the stack exists, runs the connection test and stores nothing unless it passes.
With --stack the secret is created under the stack's customer key when it has one
(secretsKmsKeyArn); --prefix replaces --stack for a prefix of your own (then --kms-key ID). AWS credentials and region come from the
environment (CALM_ENDPOINT_URL points at moto in tests). 'calmctl connector VERB -h' lists the
flags of a verb.`

// connectorExamples are run by TestHelpExamplesRun, in order, against moto with a stack named
// calm (key.json: the simulator's service key).
var connectorExamples = []string{
	"calmctl connector add --stack calm --name prod-eu10 --secret-file key.json --monitors hm,status",
	"calmctl connector list --stack calm",
	"calmctl connector list --stack calm --json",
	"calmctl connector remove --stack calm --name prod-eu10",
}

// runConnector adds, lists and removes the tenants of a deployed stack.
func runConnector(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, connectorUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, connectorUsage)
		writeExamples(stdout, connectorExamples)
		return 0
	}
	verb, args := args[0], args[1:]
	a, code, done := parseConnectorArgs(verb, args, stdout, stderr)
	if done {
		return code
	}
	usageErr := func(err error) int {
		fmt.Fprintf(stderr, "calmctl connector %s: %v\n", verb, err)
		return 2
	}
	if err := a.check(verb); err != nil {
		return usageErr(err)
	}
	awsCfg, err := loadAWS(ctx)
	if err != nil {
		return usageErr(err)
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	switch verb {
	case "list":
		return listConnectors(ctx, sm, a.prefix(), a.json, stdout, stderr)
	case "remove":
		if err := fleet.Remove(ctx, sm, a.prefix(), a.name, a.days); err != nil {
			fmt.Fprintf(stderr, "calmctl connector remove: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "connector %s removed (restorable for %d days; its checkpoints stay in the state table)\n", a.name, a.days)
		return 0
	}
	if a.stack != "" {
		key, err := checkStack(ctx, awsCfg, a.stack)
		if err != nil {
			fmt.Fprintf(stderr, "calmctl connector add: %v; nothing was stored\n", err)
			return 1
		}
		// The stack decides the key of its secrets (secretsKmsKeyArn), not a flag.
		a.kmsKey = key
	}
	return addConnector(ctx, sm, a, stdout, stderr)
}

// connectorArgs are the flags of `calmctl connector VERB`.
type connectorArgs struct {
	stack, prefixFlag, name, secretFile, monitors, kmsKey string
	interval, timeout                                     time.Duration
	days                                                  int
	json                                                  bool
}

// parseConnectorArgs reads the flags of `calmctl connector verb`; done is set, with the exit
// code, for -h and for flags that do not parse.
func parseConnectorArgs(verb string, args []string, stdout, stderr io.Writer) (a connectorArgs, code int, done bool) {
	fs := flag.NewFlagSet("calmctl connector "+verb, flag.ContinueOnError)
	fs.Usage = usageFunc(fs, connectorUsage, connectorExamples...)
	fs.StringVar(&a.stack, "stack", "", "the stack's name (its stackName context key)")
	fs.StringVar(&a.prefixFlag, "prefix", "", "the connector secrets' name prefix, instead of --stack")
	fs.StringVar(&a.name, "name", "", "the connector's name: 1-32 of a-z, 0-9 and '-'")
	fs.StringVar(&a.secretFile, "secret-file", "", "add: the service key or connector fields (JSON)")
	fs.DurationVar(&a.interval, "interval", 0, "add: time between two collections of this tenant (default: every tick)")
	fs.StringVar(&a.monitors, "monitors", "", "add: this tenant's monitors (default: the stack's)")
	fs.StringVar(&a.kmsKey, "kms-key", "", "add with --prefix: KMS key for the secret (default: aws/secretsmanager); with --stack the stack's secretsKmsKeyArn is used")
	fs.DurationVar(&a.timeout, "timeout", 30*time.Second, "add: connection test timeout")
	fs.IntVar(&a.days, "recovery-days", 7, "remove: days Secrets Manager keeps the secret restorable (7-30)")
	fs.BoolVar(&a.json, "json", false, "list: print the connectors as a JSON array")
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return a, code, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "calmctl connector %s: unexpected arguments %q; see calmctl connector %s -h\n", verb, fs.Args(), verb)
		return a, 2, true
	}
	return a, 0, false
}

// prefix is the connector secrets' name prefix: --prefix, or the one of --stack.
func (a connectorArgs) prefix() string {
	if a.stack != "" {
		return "calm-collector/" + a.stack + "/connectors/"
	}
	return a.prefixFlag
}

// check checks the flags verb uses and reports every problem at once.
func (a connectorArgs) check(verb string) error {
	var problems []error
	if (a.stack == "") == (a.prefixFlag == "") {
		problems = append(problems, errors.New("give exactly one of --stack and --prefix"))
	}
	if a.stack != "" {
		if err := fleet.CheckStackName(a.stack); err != nil {
			problems = append(problems, fmt.Errorf("--stack: %w", err))
		}
	}
	if verb != "list" {
		if err := fleet.CheckName(a.name); err != nil {
			problems = append(problems, fmt.Errorf("--name: %w", err))
		}
	}
	switch verb {
	case "add":
		if a.stack != "" && a.kmsKey != "" {
			problems = append(problems, errors.New("--kms-key: with --stack the secret uses the stack's key (its secretsKmsKeyArn); give --kms-key only with --prefix"))
		}
		if a.secretFile == "" {
			problems = append(problems, errors.New("--secret-file is missing: the service key of the tenant"))
		}
		if a.monitors != "" {
			if _, err := monitor.Parse(a.monitors); err != nil {
				problems = append(problems, fmt.Errorf("--monitors: %w", err))
			}
		}
	case "remove":
		if a.days < 7 || a.days > 30 {
			problems = append(problems, fmt.Errorf("--recovery-days %d: Secrets Manager allows 7-30", a.days))
		}
	case "list":
	default:
		return fmt.Errorf("unknown verb %q; use add, list or remove", verb)
	}
	return errors.Join(problems...)
}

// addConnector runs the connection test of the tenant's secret and stores it only when the test
// passes.
func addConnector(ctx context.Context, sm *secretsmanager.Client, a connectorArgs, stdout, stderr io.Writer) int {
	in := fleet.AddInput{Name: a.name, Interval: a.interval, KMSKeyID: a.kmsKey}
	if a.monitors != "" {
		in.Monitors = strings.Split(a.monitors, ",")
	}
	raw, err := os.ReadFile(a.secretFile)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl connector add: --secret-file: %v\n", err)
		return 2
	}
	// The same check as testconn's ?save=true: the connector's name is the tenant's.
	s, renamed, err := fleet.BindName(a.name, raw)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl connector add: --secret-file: %v\n", err)
		return 2
	}
	if in.Secret, err = s.MarshalConnector(); err != nil {
		fmt.Fprintf(stderr, "calmctl connector add: encode the connector settings: %v\n", err)
		return 1
	}
	ids, _ := monitor.Parse(a.monitors) // checked by check; "" is auto's pick
	report := conntest.Run(ctx, in.Secret, conntest.Options{Monitors: ids, Auto: a.monitors == "", Timeout: a.timeout})
	if !report.OK {
		_ = printReport(stderr, report, nil, false)
		fmt.Fprintf(stderr, "calmctl connector add: the connection test failed; nothing was stored\n")
		return exitCode(report)
	}
	arn, err := fleet.Add(ctx, sm, a.prefix(), in)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl connector add: %s\n", awsMessage(err))
		return 1
	}
	fmt.Fprintf(stdout, "connector %s added: %s\nthe collector picks it up at its next tick\n", a.name, arn)
	if renamed {
		fmt.Fprintf(stdout, "the settings have no \"name\": stored as %q, the connector's name, which names the tenant\n", a.name)
	}
	return 0
}

// listConnectors prints the connectors under prefix, one line each, or as JSON.
func listConnectors(ctx context.Context, sm *secretsmanager.Client, prefix string, asJSON bool, stdout, stderr io.Writer) int {
	cs, err := fleet.List(ctx, sm, prefix)
	if cs == nil && err != nil {
		fmt.Fprintf(stderr, "calmctl connector list: %s\n", awsMessage(err))
		return 1
	}
	if asJSON {
		if jerr := writeConnectorsJSON(stdout, cs); jerr != nil {
			err = errors.Join(err, jerr)
		}
	} else {
		writeConnectorTable(stdout, cs)
	}
	if err != nil {
		fmt.Fprintf(stderr, "calmctl connector list: %s\n", awsMessage(err))
		return 1
	}
	return 0
}

// writeConnectorTable writes the connectors as a table.
func writeConnectorTable(stdout io.Writer, cs []fleet.Connector) {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONNECTOR\tINTERVAL\tMONITORS\tSECRET")
	for _, c := range cs {
		iv, ms := "every tick", "stack's"
		if c.Interval > 0 {
			iv = c.Interval.String()
		}
		if len(c.Monitors) > 0 {
			ms = strings.Join(c.Monitors, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, iv, ms, c.SecretID)
	}
	_ = tw.Flush()
}

// connectorJSON is one connector of `connector list --json`.
type connectorJSON struct {
	Name            string   `json:"name"`
	SecretID        string   `json:"secretId"`
	IntervalSeconds float64  `json:"intervalSeconds,omitempty"`
	Monitors        []string `json:"monitors,omitempty"`
}

// writeConnectorsJSON writes the connectors as one JSON array (empty, not null, when there are none).
func writeConnectorsJSON(w io.Writer, cs []fleet.Connector) error {
	out := make([]connectorJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, connectorJSON{Name: c.Name, SecretID: c.SecretID, IntervalSeconds: c.Interval.Seconds(), Monitors: c.Monitors})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
