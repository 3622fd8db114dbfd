package main

import (
	"context"
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

// runSim runs the Cloud ALM simulator until ctx is cancelled (SIGINT/SIGTERM).
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("calmctl sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8787", "listen address (loopback only unless --force)")
	clientID := fs.String("client-id", sim.DefaultClientID, "OAuth client id the simulator accepts")
	clientSecret := fs.String("client-secret", sim.DefaultClientSecret, "OAuth client secret the simulator accepts")
	writeSecret := fs.String("write-secret", "", "write the connector secret JSON (with the client secret) to this file, mode 0600")
	services := fs.Int("services", 6, "number of simulated services")
	force := fs.Bool("force", false, "allow a non-loopback listen address")
	verbose := fs.Bool("v", false, "log every request")
	strict := fs.Bool("strict", false, "take the other reading wherever SAP's material allows two: rows paging, pages capped below the limit, dimensions and metrics required, a 200 with an error body now and then, logs provider required and at most 60 minutes a query (docs/cloud-alm-api.md)")
	behave := fs.String("behave", "", "comma list of tenant behaviours SAP's material allows, to try the collector against: "+strings.Join(sim.BehaviourNames(), ", "))
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: calmctl sim [--addr 127.0.0.1:8787] [--client-id X --client-secret Y] [--write-secret FILE] [--services N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "calmctl sim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := checkLoopback(*addr); err != nil && !*force {
		fmt.Fprintf(stderr, "calmctl sim: --addr %s: %v; the simulator accepts any caller with the printed credentials, pass --force to listen there anyway\n", *addr, err)
		return 2
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
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s := sim.New(sim.Config{ClientID: *clientID, ClientSecret: *clientSecret, Services: *services, Logger: log, Strict: *strict, Behaviours: behaviours})
	if err := s.Start(*addr); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
		return 1
	}
	defer s.Close()
	if *writeSecret != "" {
		if err := os.WriteFile(*writeSecret, append(s.ConnectorJSON(), '\n'), 0o600); err != nil {
			fmt.Fprintf(stderr, "calmctl sim: write connector secret: %v\n", err)
			return 1
		}
		// WriteFile keeps the mode of an existing file: make sure it is private.
		if err := os.Chmod(*writeSecret, 0o600); err != nil {
			fmt.Fprintf(stderr, "calmctl sim: write connector secret: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "Cloud ALM simulator listening\n  url:                  %s\n  authenticationServer: %s\n  clientId:             %s\n", s.URL(), s.AuthURL(), *clientID)
	if *writeSecret != "" {
		fmt.Fprintf(stdout, "  connector secret:     %s\n", *writeSecret)
	} else {
		fmt.Fprintln(stdout, "  clientSecret:         the --client-secret value (use --write-secret FILE for a connector secret)")
	}
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(shut); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: shutdown: %v\n", err)
	}
	fmt.Fprintln(stdout, "simulator stopped")
	return 0
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
