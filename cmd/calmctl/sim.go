package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/loopback"
	"github.com/calm-collector/calm-collector/internal/sim"
)

const simUsage = `usage: calmctl sim [--addr 127.0.0.1:8787] [--client-id X --client-secret Y] [--write-secret FILE] [--services N] [--json]

Runs the Cloud ALM simulator until Ctrl-C: the OAuth token endpoint and the Cloud ALM APIs the
collector reads, with a day of made-up data for --services services. --write-secret writes the
connector secret that calmctl test, collect and console take as --secret-file.
--addr 127.0.0.1:0 takes any free port; the start line says which.
--replay DIR serves a recorded transcript instead (docs/transcripts.md): run the collector
against it with --now set to the recorded clock the start line prints.
`

// simExamples are run by TestHelpExamplesRun, each until the simulator has started.
var simExamples = []string{
	"calmctl sim --addr 127.0.0.1:0 --write-secret sim.json",
	"calmctl sim --addr 127.0.0.1:0 --services 20 --strict --json",
}

// simStart is what the simulator prints once it listens.
type simStart struct {
	URL        string `json:"url"`
	AuthURL    string `json:"authenticationServer"`
	ClientID   string `json:"clientId"`
	SecretFile string `json:"connectorSecret,omitempty"`
	// Now is a replayed transcript's clock (calmctl sim --replay).
	Now string `json:"now,omitempty"`
}

// writeSimStart prints the start line: a short text, or one JSON object.
func writeSimStart(w io.Writer, st simStart, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(st)
	}
	fmt.Fprintf(w, "Cloud ALM simulator listening\n  url:                  %s\n  authenticationServer: %s\n  clientId:             %s\n", st.URL, st.AuthURL, st.ClientID)
	if st.SecretFile != "" {
		_, err := fmt.Fprintf(w, "  connector secret:     %s\n", st.SecretFile)
		return err
	}
	_, err := fmt.Fprintln(w, "  clientSecret:         the --client-secret value (use --write-secret FILE for a connector secret)")
	return err
}

// runSim runs the Cloud ALM simulator until ctx is cancelled (SIGINT/SIGTERM).
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("calmctl sim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8787", "listen address (loopback only unless --force)")
	clientID := fs.String("client-id", sim.DefaultClientID, "OAuth client id the simulator accepts")
	clientSecret := fs.String("client-secret", sim.DefaultClientSecret, "OAuth client secret the simulator accepts")
	writeSecret := fs.String("write-secret", "", "write the connector secret JSON (with the client secret) to this file, mode 0600")
	services := fs.Int("services", 6, "number of simulated services")
	force := fs.Bool("force", false, "allow a non-loopback listen address")
	verbose := fs.Bool("v", false, "log every request")
	strict := fs.Bool("strict", false, "take the other reading wherever SAP's material allows two: rows paging, pages capped below the limit, dimensions and metrics required, a 200 with an error body now and then, logs provider required and at most 60 minutes a query (docs/cloud-alm-api.md)")
	asJSON := fs.Bool("json", false, "print the start line as one JSON object (url, authenticationServer, clientId, connectorSecret)")
	replay := fs.String("replay", "", "serve a recorded transcript (calmctl test|collect --record DIR) instead of made-up data (docs/transcripts.md)")
	behave := fs.String("behave", "", "comma list of tenant behaviours SAP's material allows, to try the collector against: "+strings.Join(sim.BehaviourNames(), ", "))
	fs.Usage = usageFunc(fs, simUsage, simExamples...)
	if code, done := parseFlags(fs, args, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "calmctl sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := checkLoopback(*addr); err != nil && !*force {
		fmt.Fprintf(stderr, "calmctl sim: --addr %s: %v; the simulator accepts any caller with the printed credentials, pass --force to listen there anyway\n", *addr, err)
		return 2
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *replay != "" {
		return runReplay(ctx, replayArgs{dir: *replay, addr: *addr, writeSecret: *writeSecret, asJSON: *asJSON}, log, stdout, stderr)
	}
	behaviours, err := sim.ParseBehaviours(*behave)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl sim: --behave: %v\n", err)
		return 2
	}
	if *services < 1 {
		fmt.Fprintln(stderr, "calmctl sim: --services must be at least 1")
		return 2
	}
	s := sim.New(sim.Config{ClientID: *clientID, ClientSecret: *clientSecret, Services: *services, Logger: log, Strict: *strict, Behaviours: behaviours})
	if err := s.Start(*addr); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
		return 1
	}
	defer s.Close()
	if err := writeSecretFile(*writeSecret, s.ConnectorJSON()); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
		return 1
	}
	if err := writeSimStart(stdout, simStart{URL: s.URL(), AuthURL: s.AuthURL(), ClientID: *clientID, SecretFile: *writeSecret}, *asJSON); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
		return 1
	}
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(shut); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: shutdown: %v\n", err)
	}
	if !*asJSON {
		fmt.Fprintln(stdout, "simulator stopped")
	}
	return 0
}

// writeSecretFile writes a connector secret to path, mode 0600 ("" writes nothing).
func writeSecretFile(path string, secret []byte) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, append(secret, '\n'), 0o600); err != nil {
		return fmt.Errorf("write connector secret: %w", err)
	}
	// WriteFile keeps the mode of an existing file: make sure it is private.
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("write connector secret: %w", err)
	}
	return nil
}

// checkLoopback returns an error unless addr's host is a loopback address or localhost.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("not host:port: %w", err)
	}
	if !loopback.Host(host) {
		return errors.New("not a loopback address")
	}
	return nil
}
