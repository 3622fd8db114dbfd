package main

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	srv := sim.StartTest(t, sim.Config{})
	secret := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(secret, srv.ConnectorJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, secret
}

func TestCollectInProcessScheduledAndBackfill(t *testing.T) {
	srv, secret := startSim(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.ndjson")
	args := []string{"--secret-file", secret, "--state", filepath.Join(dir, "state"), "--out", out, "--monitors", "hm,status"}
	var stdout, stderr bytes.Buffer
	if code := runCollect(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "MONITOR") || !strings.Contains(stderr.String(), "hm ") {
		t.Errorf("no summary table on stderr:\n%s", stderr.String())
	}
	// Backfill to stdout: exactly the simulator's points of the range.
	from := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	stdout.Reset()
	stderr.Reset()
	code := runCollect(context.Background(), []string{"--secret-file", secret, "--state", filepath.Join(dir, "state"), "--out", "-",
		"--monitors", "jam", "--from", from.Format(time.RFC3339), "--to", from.Add(2 * time.Hour).Format(time.RFC3339)}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("backfill exit %d\n%s", code, stderr.String())
	}
	want := map[string]bool{}
	for _, p := range srv.Expected("jam", from, from.Add(2*time.Hour), 5*time.Minute) {
		want[record.MetricPointID("sim", "jam", p.Metric, p.Measure, p.Merged(), p.Time)] = true
	}
	got := readIDs(t, stdout.Bytes())
	if len(got) != len(want) {
		t.Errorf("backfill wrote %d records, the simulator holds %d", len(got), len(want))
	}
	for id, n := range got {
		if !want[id] || n != 1 {
			t.Errorf("record %s: expected=%v, written %d times", id, want[id], n)
		}
	}
	store, _ := state.NewFileStore(filepath.Join(dir, "state"))
	if _, ok, _ := store.Get(context.Background(), "sim", "jam"); ok {
		t.Error("the backfill wrote a checkpoint")
	}
}

func readIDs(t *testing.T, b []byte) map[string]int {
	t.Helper()
	ids := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		r, err := record.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		ids[r.ID]++
	}
	return ids
}

// A scheduled catch-up killed with SIGKILL at random moments and resumed: in the end the output
// holds every point of every window up to the checkpoint, and a point appears more than once only
// because its whole window was delivered again.
func TestCollectSurvivesSIGKILL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "calmctl")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build calmctl: %v\n%s", err, b)
	}
	srv, secret := startSim(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.ndjson")
	args := []string{"collect", "--secret-file", secret, "--state", filepath.Join(dir, "state"), "--out", out,
		"--monitors", "hm,jam", "--lease-ttl", "1s", "--span", "30m"}
	start := time.Now().UTC()
	// Seed the checkpoints a day back, so that the catch-up starts at a known window whatever
	// run first gets through.
	first := start.Add(-2 * time.Minute).Truncate(5 * time.Minute).Add(-24 * time.Hour)
	seedStore, err := state.NewFileStore(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"hm", "jam"} {
		if err := seedStore.Put(context.Background(), state.Checkpoint{Tenant: "sim", Monitor: m, Next: first}); err != nil {
			t.Fatal(err)
		}
	}
	seed := uint64(start.UnixNano())
	rnd := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)

	runOnce := func(killAfter time.Duration) (code int, stderr string) {
		var eb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stderr = &eb
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		if killAfter > 0 {
			select {
			case <-time.After(killAfter):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done //nolint:errcheck // the exit of a killed run says nothing
				return -1, eb.String()
			case <-done: //nolint:errcheck // the exit code below is the result
			}
		} else {
			<-done //nolint:errcheck // the exit code below is the result
		}
		return cmd.ProcessState.ExitCode(), eb.String()
	}
	// runUntil retries while the lease of a killed run has not expired yet.
	runUntil := func(killAfter time.Duration) int {
		for range 50 {
			code, stderr := runOnce(killAfter)
			if code == 1 && strings.Contains(stderr, "is being collected by") {
				time.Sleep(300 * time.Millisecond)
				continue
			}
			if code > 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			return code
		}
		t.Fatal("the lease of a killed run never expired")
		return 0
	}
	const kills = 5
	killed := 0
	for range kills {
		if runUntil(time.Duration(50+rnd.IntN(700))*time.Millisecond) == -1 {
			killed++
		}
	}
	runUntil(0)
	runUntil(0) // steady state after the catch-up
	t.Logf("%d of %d runs were killed before they finished", killed, kills)

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]record.Record{}
	count := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		r, err := record.Decode(sc.Bytes())
		if err != nil {
			t.Fatalf("torn line in the output %q: %v", sc.Text(), err)
		}
		recs[r.ID] = r
		count[r.ID]++
	}
	store, _ := state.NewFileStore(filepath.Join(dir, "state"))
	redelivered, partly := 0, 0
	for _, m := range []string{"hm", "jam"} {
		cp, ok, err := store.Get(context.Background(), "sim", m)
		if !ok || err != nil {
			t.Fatalf("%s: no checkpoint: %v", m, err)
		}
		want := map[string]bool{}
		for _, p := range srv.Expected(m, first, cp.Next, 5*time.Minute) {
			want[record.MetricPointID("sim", m, p.Metric, p.Measure, p.Merged(), p.Time)] = true
		}
		for id := range want {
			if count[id] == 0 {
				t.Errorf("%s: point %s missing", m, id)
			}
		}
		// Per window, every point appears the same number of times (a whole window re-delivered),
		// except in a window whose write a kill cut short: its complete lines stay, and the window,
		// not yet checkpointed, comes again whole. At most one such window per kill.
		perWindow := map[time.Time]map[int]bool{}
		for id, r := range recs {
			if r.Monitor != m {
				continue
			}
			if !want[id] {
				t.Errorf("%s: record %s at %s is not a point of [%s, %s)", m, id, r.Time, first, cp.Next)
			}
			w := r.Time.Truncate(5 * time.Minute)
			if perWindow[w] == nil {
				perWindow[w] = map[int]bool{}
			}
			perWindow[w][count[id]] = true
		}
		for w, counts := range perWindow {
			if len(counts) != 1 {
				partly++
				t.Logf("%s: window %s was partly delivered again after a write cut short: %v", m, w, counts)
			}
			for n := range counts {
				if n > 1 {
					redelivered++
					break
				}
			}
		}
	}
	if partly > killed {
		t.Errorf("%d windows partly delivered more than once after %d kills: at most one write can be cut short per kill", partly, killed)
	}
	t.Logf("%d distinct records, %d windows re-delivered (%d after a write cut short)", len(recs), redelivered, partly)
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
	firstWindow := start.UTC().Add(-2 * time.Minute).Truncate(5 * time.Minute).Add(-time.Hour)
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
