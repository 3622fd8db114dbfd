package main

import (
	"context"
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
  calmctl connector add    --stack NAME --name CONNECTOR --secret-file key.json [--interval 15m] [--monitors hm,events] [--kms-key ID]
  calmctl connector list   --stack NAME
  calmctl connector remove --stack NAME --name CONNECTOR [--recovery-days 7]

A connector is a Secrets Manager secret named calm-collector/STACK/connectors/CONNECTOR; the
deployed collector finds it at its next tick, no deploy needed (docs/deploy.md, "Tenants").
add runs the connection test first and stores nothing unless it passes. --prefix replaces
--stack for a prefix of your own. AWS credentials and region come from the environment
(CALM_ENDPOINT_URL points at moto in tests).`

// runConnector adds, lists and removes the tenants of a deployed stack.
func runConnector(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, connectorUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("calmctl connector "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "", "the stack's name (its stackName context key)")
	prefix := fs.String("prefix", "", "the connector secrets' name prefix, instead of --stack")
	name := fs.String("name", "", "the connector's name: 1-32 of a-z, 0-9 and '-'")
	secretFile := fs.String("secret-file", "", "add: the service key or connector fields (JSON)")
	interval := fs.Duration("interval", 0, "add: time between two collections of this tenant (default: every tick)")
	monitors := fs.String("monitors", "", "add: this tenant's monitors (default: the stack's)")
	kmsKey := fs.String("kms-key", "", "add: KMS key for the secret (default: aws/secretsmanager)")
	timeout := fs.Duration("timeout", 30*time.Second, "add: connection test timeout")
	days := fs.Int("recovery-days", 7, "remove: days Secrets Manager keeps the secret restorable (7-30)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageErr := func(err error) int {
		fmt.Fprintf(stderr, "calmctl connector %s: %v\n", verb, err)
		return 2
	}
	var problems []error
	if (*stack == "") == (*prefix == "") {
		problems = append(problems, errors.New("give exactly one of --stack and --prefix"))
	}
	p := *prefix
	if *stack != "" {
		p = "calm-collector/" + *stack + "/connectors/"
	}
	if verb != "list" {
		if err := fleet.CheckName(*name); err != nil {
			problems = append(problems, fmt.Errorf("--name: %w", err))
		}
	}
	switch verb {
	case "add":
		if *secretFile == "" {
			problems = append(problems, errors.New("--secret-file is missing: the service key of the tenant"))
		}
	case "remove":
		if *days < 7 || *days > 30 {
			problems = append(problems, fmt.Errorf("--recovery-days %d: Secrets Manager allows 7-30", *days))
		}
	case "list":
	default:
		return usageErr(fmt.Errorf("unknown verb %q; use add, list or remove", verb))
	}
	if err := errors.Join(problems...); err != nil {
		return usageErr(err)
	}
	awsCfg, err := loadAWS(ctx)
	if err != nil {
		return usageErr(err)
	}
	sm := secretsmanager.NewFromConfig(awsCfg)
	switch verb {
	case "list":
		return listConnectors(ctx, sm, p, stdout, stderr)
	case "remove":
		if err := fleet.Remove(ctx, sm, p, *name, *days); err != nil {
			fmt.Fprintf(stderr, "calmctl connector remove: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "connector %s removed (restorable for %d days; its checkpoints stay in the state table)\n", *name, *days)
		return 0
	}
	in := fleet.AddInput{Name: *name, Interval: *interval, KMSKeyID: *kmsKey}
	if *monitors != "" {
		if _, err := monitor.Parse(*monitors); err != nil {
			return usageErr(fmt.Errorf("--monitors: %w", err))
		}
		in.Monitors = strings.Split(*monitors, ",")
	}
	if in.Secret, err = os.ReadFile(*secretFile); err != nil {
		return usageErr(fmt.Errorf("--secret-file: %w", err))
	}
	ids, _ := monitor.Parse(*monitors) // checked above; "" is auto's pick
	report := conntest.Run(ctx, in.Secret, conntest.Options{Monitors: ids, Auto: *monitors == "", Timeout: *timeout})
	if !report.OK {
		_ = printReport(stderr, report, nil, false)
		fmt.Fprintf(stderr, "calmctl connector add: the connection test failed; nothing was stored\n")
		return exitCode(report)
	}
	arn, err := fleet.Add(ctx, sm, p, in)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl connector add: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "connector %s added: %s\nthe collector picks it up at its next tick\n", *name, arn)
	return 0
}

func listConnectors(ctx context.Context, sm *secretsmanager.Client, prefix string, stdout, stderr io.Writer) int {
	cs, err := fleet.List(ctx, sm, prefix)
	if cs == nil && err != nil {
		fmt.Fprintf(stderr, "calmctl connector list: %v\n", err)
		return 1
	}
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
	if err != nil {
		fmt.Fprintf(stderr, "calmctl connector list: %v\n", err)
		return 1
	}
	return 0
}
