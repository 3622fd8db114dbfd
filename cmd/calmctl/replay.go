package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// replayArgs are the flags of `calmctl sim --replay`.
type replayArgs struct {
	dir, addr, writeSecret string
	asJSON                 bool
}

// runReplay serves a recorded transcript until ctx is cancelled, then says which recorded
// requests were not asked for.
func runReplay(ctx context.Context, a replayArgs, log *slog.Logger, stdout, stderr io.Writer) int {
	tr, err := transcript.Load(a.dir)
	if err != nil {
		fmt.Fprintf(stderr, "calmctl sim: --replay: %v\n", err)
		return 2
	}
	rp := sim.NewReplay(tr, log)
	if err := rp.Start(a.addr); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
		return 1
	}
	defer rp.Close()
	if err := writeSecretFile(a.writeSecret, rp.ConnectorJSON()); err != nil {
		fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
		return 1
	}
	now := tr.Meta.Now.UTC().Format(time.RFC3339)
	st := simStart{URL: rp.URL(), AuthURL: rp.URL(), ClientID: tr.Meta.Settings.ClientID, SecretFile: a.writeSecret, Now: now}
	if a.asJSON {
		if err := writeSimStart(stdout, st, true); err != nil {
			fmt.Fprintf(stderr, "calmctl sim: %v\n", err)
			return 1
		}
	} else {
		fmt.Fprintf(stdout, "replaying %s (%s of %s, %d exchanges)\n  url:                  %s\n  recorded clock:       %s\n  run:                  calmctl %s --now %s%s (and the recorded run's settings, %s)\n",
			a.dir, tr.Meta.Command, tr.Meta.Settings.Name, len(tr.Exchanges), rp.URL(), now, tr.Meta.Command, now,
			replayFlags(tr.Meta), transcript.MetaFile)
		if a.writeSecret != "" {
			fmt.Fprintf(stdout, "  connector secret:     %s\n", a.writeSecret)
		}
	}
	<-ctx.Done()
	if u := rp.Unserved(); len(u) > 0 && !a.asJSON {
		fmt.Fprintf(stdout, "recorded requests not asked for: %d\n  %s\n", len(u), strings.Join(u, "\n  "))
	}
	return 0
}

// replayFlags are the flags a replay of m needs beyond --now: a collection ran one monitor at a
// time, from the state the transcript keeps.
func replayFlags(m transcript.Meta) string {
	if m.Command != "collect" {
		return ""
	}
	flags := " --concurrency 1"
	if m.State {
		flags += " --state (a copy of the transcript's " + transcript.StateDir + "/)"
	}
	return flags
}
