package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/testkit"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// recordNow is the clock of the recorded runs (the simulator's and --now).
var recordNow = time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)

// startReplay serves the transcript in dir and writes its connector secret file.
func startReplay(t *testing.T, dir string) (*sim.Replay, string) {
	t.Helper()
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	rp := sim.NewReplay(tr, nil)
	if err := rp.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rp.Close() })
	secret := filepath.Join(t.TempDir(), "replay.json")
	if err := writeSecretFile(secret, rp.ConnectorJSON()); err != nil {
		t.Fatal(err)
	}
	return rp, secret
}

// recordIDs returns the ids of an NDJSON records file, sorted.
func recordIDs(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		r, err := record.Decode(line)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

// calmctl collect --record writes a transcript of a second scheduled run (with the state it
// started from) that holds no secret, and the same command against calmctl sim's replay of it,
// with --now and that state, delivers exactly the records the recorded run delivered.
func TestCollectRecordThenReplay(t *testing.T) {
	_, secretFile := startSimWith(t, sim.Config{Now: func() time.Time { return recordNow }, Services: 2})
	stateDir := t.TempDir()
	flags := []string{"--monitors", "hm,exm,jam,status", "--lookback", "30m", "--state", stateDir}
	first := []string{"collect", "--secret-file", secretFile, "--out", filepath.Join(t.TempDir(), "first.ndjson"),
		"--now", recordNow.Add(-10 * time.Minute).Format(time.RFC3339)}
	if code := run(append(first, flags...), &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("first run exit %d", code)
	}
	dir := filepath.Join(t.TempDir(), "tr")
	recorded := filepath.Join(t.TempDir(), "recorded.ndjson")
	var stderr bytes.Buffer
	second := []string{"collect", "--secret-file", secretFile, "--out", recorded, "--record", dir, "--now", recordNow.Format(time.RFC3339)}
	if code := run(append(second, flags...), &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("recorded run exit %d: %s", code, stderr.String())
	}
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Meta.State || !tr.Meta.Now.Equal(recordNow) || tr.Meta.Command != "collect" {
		t.Errorf("meta %+v; want the state kept, now %s, command collect", tr.Meta, recordNow)
	}
	secretDoc, _ := os.ReadFile(secretFile)
	assertNothingOf(t, dir, testkit.SecretsIn(secretDoc))

	// The replay needs the recorded state, not the one the recorded run left.
	replayState := t.TempDir()
	if err := os.CopyFS(replayState, os.DirFS(filepath.Join(dir, transcript.StateDir))); err != nil {
		t.Fatal(err)
	}
	rp, replaySecret := startReplay(t, dir)
	replayed := filepath.Join(t.TempDir(), "replayed.ndjson")
	stderr.Reset()
	args := []string{"collect", "--secret-file", replaySecret, "--out", replayed, "--now", recordNow.Format(time.RFC3339),
		"--monitors", "hm,exm,jam,status", "--lookback", "30m", "--state", replayState, "--concurrency", "1"}
	if code := run(args, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("replayed run exit %d: %s", code, stderr.String())
	}
	want, got := recordIDs(t, recorded), recordIDs(t, replayed)
	if len(want) == 0 || !slices.Equal(want, got) {
		t.Errorf("replay delivered %d records, the recorded run %d; want the same ids", len(got), len(want))
	}
	var exp transcript.Expected
	if err := tr.ReadJSON(transcript.ExpectedFile, &exp); err != nil || exp.Records != len(want) {
		t.Errorf("expected.json: %d records (%v); want the %d the recorded run wrote", exp.Records, err, len(want))
	}
	if u := rp.Unserved(); len(u) > 0 {
		t.Errorf("recorded requests the replay was not asked: %q", u)
	}
}

// calmctl test --record writes the report and a transcript without secrets; the test against
// the replay, with --now, gives the same checks the same status.
func TestTestRecordThenReplay(t *testing.T) {
	_, secretFile := startSimWith(t, sim.Config{Now: func() time.Time { return recordNow }, Services: 2})
	dir := filepath.Join(t.TempDir(), "tr")
	now := recordNow.Format(time.RFC3339)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"test", "--secret-file", secretFile, "--record", dir, "--now", now, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("recorded test exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	secretDoc, _ := os.ReadFile(secretFile)
	assertNothingOf(t, dir, testkit.SecretsIn(secretDoc))
	var recorded reportBody
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.ReadJSON(transcript.ReportFile, &recorded); err != nil {
		t.Fatal(err)
	}
	_, replaySecret := startReplay(t, dir)
	stdout.Reset()
	if code := run([]string{"test", "--secret-file", replaySecret, "--now", now, "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("replayed test exit %d: %s", code, stdout.String())
	}
	var replayed reportBody
	if err := json.Unmarshal(stdout.Bytes(), &replayed); err != nil {
		t.Fatal(err)
	}
	status := func(r reportBody) []string {
		var out []string
		for _, c := range r.Checks {
			if c.ID != "reach" && c.ID != "settings" { // the replay's host and secret are its own
				out = append(out, c.ID+"="+string(c.Status))
			}
		}
		return out
	}
	if !slices.Equal(status(recorded), status(replayed)) || len(status(recorded)) < 5 {
		t.Errorf("replayed checks %v; recorded %v", status(replayed), status(recorded))
	}
}

// assertNothingOf fails when any value is in any reading of any file under dir.
func assertNothingOf(t *testing.T, dir string, values []string) {
	t.Helper()
	if len(values) == 0 {
		t.Fatal("nothing to look for")
	}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, text := range transcript.Decoded(raw) {
			for _, v := range values {
				if strings.Contains(text, v) {
					t.Errorf("%s holds a secret", path)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// calmctl sim --replay serves a shipped transcript: calmctl collect with the recorded clock and
// settings (as the start line and transcript.json give them) delivers exactly expected.json.
func TestSimReplayServesAShippedTranscript(t *testing.T) {
	dir := filepath.Join("..", "..", "internal", "collect", "testdata", "tenants", "sim-default")
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var recorded collect.RecordedRun
	if err := json.Unmarshal(tr.Meta.Run, &recorded); err != nil {
		t.Fatal(err)
	}
	var want transcript.Expected
	if err := tr.ReadJSON(transcript.ExpectedFile, &want); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "replay.json")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- runSim(ctx, []string{"--addr", "127.0.0.1:0", "--replay", dir, "--write-secret", secret, "--json"}, pw, io.Discard)
		pw.Close()
	}()
	var st simStart
	if err := json.NewDecoder(pr).Decode(&st); err != nil {
		cancel()
		t.Fatalf("start line: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if st.Now != tr.Meta.Now.Format(time.RFC3339) {
		t.Errorf("start line now %q; want the recorded %s", st.Now, tr.Meta.Now)
	}
	out := filepath.Join(t.TempDir(), "replayed.ndjson")
	cfg := recorded.Config
	var stderr bytes.Buffer
	code := run([]string{"collect", "--secret-file", secret, "--out", out, "--state", t.TempDir(), "--now", st.Now,
		"--monitors", strings.Join(cfg.Monitors, ","), "--lookback", cfg.Lookback.String(), "--event-lookback", cfg.EventLookback.String(),
		"--concurrency", strconv.Itoa(cfg.Concurrency)}, &bytes.Buffer{}, &stderr)
	cancel()
	if c := <-done; c != 0 {
		t.Errorf("calmctl sim --replay exit %d", c)
	}
	if code != 0 {
		t.Fatalf("collect against the replay: exit %d: %s", code, stderr.String())
	}
	got := recordIDs(t, out)
	wantIDs := slices.Sorted(maps.Keys(want.IDs))
	if !slices.Equal(got, wantIDs) {
		t.Errorf("replay delivered %d records; the recorded run %d (expected.json)", len(got), len(wantIDs))
	}
}
