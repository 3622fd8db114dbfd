package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

func TestCollectUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "give exactly one of --secret-file and --secret-id"},
		{[]string{"--secret-file", "x", "--secret-id", "y"}, "give exactly one of --secret-file and --secret-id"},
		{[]string{"--secret-file", "x", "--monitors", "hm,nope"}, `monitors: unknown monitor "nope"`},
		{[]string{"--secret-file", "x", "--from", "2026-11-25T10:00:00Z"}, "--to is missing: a backfill needs both --from and --to"},
		{[]string{"--secret-file", "x", "--resolution", "7m"}, "resolution: 7m0s is not supported"},
		{[]string{"--secret-file", "/does/not/exist"}, "read the connector secret: secret file /does/not/exist does not exist"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := runCollect(context.Background(), tt.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("collect %q = %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// startSim serves the simulator on the real clock (the subprocess reads time.Now) and writes the
// connector secret file.
func startSim(t *testing.T) (*sim.Server, string) {
	t.Helper()
	return startSimWith(t, sim.Config{})
}

// startSimWith is startSim with a simulator of cfg (e.g. a sim.Readings entry).
func startSimWith(t *testing.T, cfg sim.Config) (*sim.Server, string) {
	t.Helper()
	srv := sim.StartTest(t, cfg)
	secret := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(secret, srv.ConnectorJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, secret
}

// A scheduled run and a backfill to stdout deliver exactly the simulator's points, against the
// default and the strict simulator (sim.Readings). Killed runs are internal/e2e's TestCrashLoop.
func TestCollectInProcessScheduledAndBackfill(t *testing.T) {
	for _, v := range sim.Readings() {
		t.Run(v.Name, func(t *testing.T) { collectScheduledAndBackfill(t, v) })
	}
}

func collectScheduledAndBackfill(t *testing.T, v sim.Reading) {
	srv, secret := startSimWith(t, v.Config)
	dir := t.TempDir()
	out, stateDir := filepath.Join(dir, "out.ndjson"), filepath.Join(dir, "state")
	args := []string{"--secret-file", secret, "--state", stateDir, "--out", out, "--monitors", "hm,status"}
	var stdout, stderr bytes.Buffer
	if code := runCollect(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "MONITOR") || !strings.Contains(stderr.String(), "hm ") {
		t.Errorf("no summary table on stderr:\n%s", stderr.String())
	}
	store, err := state.NewFileStore(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	// The scheduled run: exactly the simulator's hm points of the lookback before its checkpoint.
	cp, ok, err := store.Get(context.Background(), "sim", "hm")
	if err != nil || !ok || cp.LastError != "" {
		t.Fatalf("hm checkpoint %+v %v %v", cp, ok, err)
	}
	cfg := collect.DefaultConfig()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	exact(t, "scheduled hm", readIDs(t, b, "hm"), expectedIDs(srv, "hm", cp.Next.Add(-cfg.Lookback), cp.Next, cfg.Resolution))

	// Backfill to stdout: exactly the simulator's points of the range, and no checkpoint.
	from := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	stdout.Reset()
	stderr.Reset()
	code := runCollect(context.Background(), []string{"--secret-file", secret, "--state", stateDir, "--out", "-",
		"--monitors", "jam", "--from", from.Format(time.RFC3339), "--to", from.Add(2 * time.Hour).Format(time.RFC3339)}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("backfill exit %d\n%s", code, stderr.String())
	}
	exact(t, "backfill jam", readIDs(t, stdout.Bytes(), "jam"), expectedIDs(srv, "jam", from, from.Add(2*time.Hour), cfg.Resolution))
	if _, ok, err := store.Get(context.Background(), "sim", "jam"); ok || err != nil {
		t.Errorf("the backfill wrote a checkpoint (or reading it failed: %v)", err)
	}
}

// expectedIDs are the ids of the simulator's points of a monitor in [from, to).
func expectedIDs(srv *sim.Server, monitor string, from, to time.Time, res time.Duration) map[string]bool {
	want := map[string]bool{}
	for _, p := range srv.Expected(monitor, from, to, res) {
		want[record.PointID("sim", monitor, p.Measure, p.Merged(), p.Time)] = true
	}
	return want
}

// exact fails unless got holds every id of want once and nothing else.
func exact(t *testing.T, what string, got map[string]int, want map[string]bool) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: the simulator serves no point: the test proves nothing", what)
	}
	missing, extra, twice := 0, 0, 0
	for id := range want {
		if got[id] == 0 {
			missing++
		}
	}
	for id, n := range got {
		if !want[id] {
			extra++
		}
		if n > 1 {
			twice++
		}
	}
	if missing+extra+twice > 0 {
		t.Errorf("%s: %d of %d points missing, %d not the simulator's, %d written more than once", what, missing, len(want), extra, twice)
	}
}

// readIDs counts the ids of the NDJSON records of monitor in b.
func readIDs(t *testing.T, b []byte, monitor string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		r, err := record.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if r.Monitor() == monitor {
			ids[r.ID]++
		}
	}
	return ids
}

// A scheduled run against a server slower than --timeout stops at its deadline: it saves what is
// complete, says it is incomplete and exits 3; it never runs past the timeout.
func TestCollectTimeoutStopsIncomplete(t *testing.T) {
	srv, secret := startSim(t)
	srv.SetFaults(sim.Faults{Slow: 30 * time.Second})
	dir := t.TempDir()
	args := []string{"--secret-file", secret, "--state", filepath.Join(dir, "state"), "--out", filepath.Join(dir, "out.ndjson"),
		"--monitors", "hm", "--timeout", "2s"}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := runCollect(context.Background(), args, &stdout, &stderr)
	took := time.Since(start)
	if code != 3 || !strings.Contains(stderr.String(), "incomplete: the run stopped at its deadline") {
		t.Errorf("exit %d, want 3 and the run reported incomplete\n%s", code, stderr.String())
	}
	// The bound is the timeout itself (plus closing the sinks), not a speed target.
	if took > 2*time.Second+time.Second {
		t.Errorf("the run took %s with --timeout 2s", took)
	}
	st, err := state.NewFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	// Nothing was delivered: the checkpoint may not pass the first window of the lookback.
	cfg := collect.DefaultConfig()
	firstWindow := start.UTC().Add(-cfg.Lag).Truncate(cfg.Resolution).Add(-cfg.Lookback)
	if cp, ok, _ := st.Get(context.Background(), "sim", "hm"); ok && cp.Next.After(firstWindow) {
		t.Errorf("checkpoint moved to %s (past %s) though nothing was delivered", cp.Next, firstWindow)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out.ndjson")); len(b) != 0 {
		t.Errorf("records delivered from a server that never answered: %.200s", b)
	}
}

func TestCollectTimeoutFlagsChecked(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := runCollect(context.Background(), []string{"--secret-file", "x", "--timeout", "-1s", "--interval", "0s"}, &stdout, &stderr)
	for _, want := range []string{"--interval 0s: use a positive duration", "--timeout -1s is negative"} {
		if code != 2 || !strings.Contains(stderr.String(), want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
		}
	}
}

// A backfill stopped half-way (Ctrl-C: its context ends at the first progress line) prints the
// commands that collect the rest; run as printed, they complete it: every point of the range
// once, none twice.
func TestCollectStoppedBackfillPrintsResume(t *testing.T) {
	srv, secret := startSim(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "backfill.ndjson")
	from := time.Now().UTC().Truncate(time.Hour).Add(-8 * time.Hour)
	to := from.Add(6 * time.Hour)
	args := []string{"--secret-file", secret, "--state", filepath.Join(dir, "state"), "--out", out, "--monitors", "hm,jam",
		"--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	stderr := &lockedBuffer{onLine: cancel}
	if code := runCollect(ctx, args, &stdout, stderr); code == 0 {
		t.Fatalf("the stopped backfill exited 0:\n%s", stderr.String())
	}
	_, rest, ok := strings.Cut(stderr.String(), "to collect the rest, run:\n")
	if !ok {
		t.Fatalf("no resume command after the stop:\n%s", stderr.String())
	}
	for _, line := range strings.Split(rest, "\n") {
		cmd, ok := strings.CutPrefix(line, "  calmctl collect ")
		if !ok {
			continue
		}
		var errb bytes.Buffer
		if code := runCollect(context.Background(), strings.Fields(cmd), &stdout, &errb); code != 0 {
			t.Fatalf("the resume command %q: exit %d\n%s", cmd, code, errb.String())
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg := collect.DefaultConfig()
	for _, m := range []string{"hm", "jam"} {
		exact(t, "stopped and resumed backfill "+m, readIDs(t, b, m), expectedIDs(srv, m, from, to, cfg.Resolution))
	}
}

func TestWithoutFlagsAndShellJoin(t *testing.T) {
	got := withoutFlags([]string{"--secret-file", "k.json", "--from", "A", "-monitors=hm", "--out", "o", "-from=B", "--monitors", "jam"}, "from", "monitors")
	if want := "--secret-file k.json --out o"; strings.Join(got, " ") != want {
		t.Errorf("withoutFlags = %q, want %q", got, want)
	}
	if got := shellJoin([]string{"calmctl", "--out", "my records.ndjson", "--sink", "s3://b/p", "it's"}); got != `calmctl --out 'my records.ndjson' --sink s3://b/p 'it'\''s'` {
		t.Errorf("shellJoin = %s", got)
	}
}
