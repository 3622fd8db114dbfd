package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
	"github.com/calm-collector/calm-collector/internal/transcript"
)

// tenantsDir holds the transcripts every replay must be exact against (docs/transcripts.md).
const tenantsDir = "testdata/tenants"

// updateTranscripts records the simulator transcripts again: go test ./internal/collect
// -run TestTranscripts -update-transcripts (make transcripts).
var updateTranscripts = flag.Bool("update-transcripts", false, "record testdata/tenants/sim-* again from the simulator")

// transcriptNow is the clock of the generated transcripts.
var transcriptNow = time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)

// transcriptSetups are the simulator tenants the generator records: both readings, and every
// behaviour of sim.BehaviourNames on the default reading.
func transcriptSetups(t *testing.T) map[string]sim.Config {
	out := map[string]sim.Config{}
	for _, rd := range sim.Readings() {
		out["sim-"+rd.Name] = rd.With(sim.Config{})
	}
	for _, name := range sim.BehaviourNames() {
		b, err := sim.ParseBehaviours(name)
		if err != nil {
			t.Fatal(err)
		}
		out["sim-"+name] = sim.Config{Behaviours: b}
	}
	return out
}

// transcriptConfig is the run the generator records: every monitor, a short window, few
// services (the transcripts stay small), one monitor at a time as every recording (Recording).
func transcriptConfig() Config {
	cfg := DefaultConfig()
	cfg.Concurrency = RecordingConcurrency
	cfg.Monitors = []string{AllMonitors}
	cfg.Lookback = 15 * time.Minute
	cfg.EventLookback = time.Hour
	return cfg
}

// recordTranscript records a scheduled collection from empty state against srv into dir.
func recordTranscript(t *testing.T, srv *sim.Server, dir string, services []string) transcript.Expected {
	return recordSetup(t, srv, dir, services, "")
}

// recordSetup is recordTranscript naming the simulator setup in the transcript.
func recordSetup(t *testing.T, srv *sim.Server, dir string, services []string, source string) transcript.Expected {
	t.Helper()
	rec, err := transcript.Create(dir, transcript.Options{Services: services})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(srv.ConnectorJSON(), "", ClientOptions{Logger: slog.New(slog.DiscardHandler), Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	rc := &Recording{Recorder: rec, Now: transcriptNow, Source: source}
	store, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := transcriptConfig()
	r := (&Runner{Config: cfg, Store: store, Sinks: []Sink{rc.Sink()}, Now: func() time.Time { return transcriptNow },
		Logger: slog.New(slog.DiscardHandler)}).For(c)
	sum := r.Run(context.Background(), Request{})
	if sum.Error != "" {
		t.Fatalf("recorded run: %s", sum.Error)
	}
	if err := rc.Close(c, cfg, nil, sum); err != nil {
		t.Fatal(err)
	}
	exp := rc.expect.Result()
	exp.Monitors = Outcomes(sum)
	return exp
}

// TestTranscriptsReplayExactly runs collection against every transcript under testdata/tenants
// with the recorded clock and settings: the records must be exactly those the recorded run
// delivered (ids and content, expected.json).
func TestTranscriptsReplayExactly(t *testing.T) {
	if *updateTranscripts {
		for name, cfg := range transcriptSetups(t) {
			cfg.Now, cfg.Services = func() time.Time { return transcriptNow }, 2
			dir := filepath.Join(tenantsDir, name)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			recordSetup(t, sim.StartTest(t, cfg), dir, nil, "calm-collector simulator, "+name)
		}
	}
	dirs, err := filepath.Glob(filepath.Join(tenantsDir, "*", transcript.MetaFile))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no transcripts under %s (%v): record them with make transcripts", tenantsDir, err)
	}
	for _, meta := range dirs {
		dir := filepath.Dir(meta)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tr, err := transcript.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Meta.Command != "collect" {
				t.Skipf("a %s transcript: replayed by its command's suite", tr.Meta.Command)
			}
			var want transcript.Expected
			if err := tr.ReadJSON(transcript.ExpectedFile, &want); err != nil {
				t.Fatalf("%s: %v (recorded by calmctl collect --record)", transcript.ExpectedFile, err)
			}
			got, rp := replayCollect(t, tr)
			if diff := want.Diff(got); len(diff) > 0 {
				hint := ""
				if tr.Meta.Source != "" {
					hint = "\n(a simulator transcript: if the collector's requests changed on purpose, record them again with make transcripts)"
				}
				t.Errorf("replay of %s is not exact (%d differences; first ones):\n  %s%s", dir, len(diff), strings.Join(diff[:min(len(diff), 10)], "\n  "), hint)
			}
			if u := rp.Unserved(); len(u) > 0 {
				t.Logf("recorded requests the replay did not ask (prefetched pages it did not need): %s", strings.Join(u, "; "))
			}
		})
	}
}

// replayCollect runs the transcript's collection against its replay and returns what it delivered.
func replayCollect(t *testing.T, tr *transcript.Transcript) (transcript.Expected, *sim.Replay) {
	t.Helper()
	var run RecordedRun
	if err := json.Unmarshal(tr.Meta.Run, &run); err != nil {
		t.Fatalf("the transcript's run: %v", err)
	}
	rp := sim.NewReplay(tr, slog.New(slog.DiscardHandler))
	if err := rp.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rp.Close() })
	c, err := Connect(rp.ConnectorJSON(), "", ClientOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	if tr.Meta.State {
		if err := os.CopyFS(stateDir, os.DirFS(filepath.Join(tr.Dir, transcript.StateDir))); err != nil {
			t.Fatal(err)
		}
	}
	store, err := state.NewFileStore(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	mem := &testkit.MemSink[sink.Batch]{}
	r := (&Runner{Config: run.Config, Store: store, Sinks: []Sink{mem}, Now: func() time.Time { return tr.Meta.Now },
		Logger: slog.New(slog.DiscardHandler)}).For(c)
	r.Host = run.Host // the recorded state names the recorded host
	sum := r.Run(context.Background(), Request{Backfill: run.Backfill})
	for _, m := range sum.Monitors {
		if m.Error != "" {
			t.Logf("replay: monitor %s: %s", m.Monitor, m.Error)
		}
	}
	var e transcript.Expect
	var line []byte
	for _, b := range mem.Batches() {
		for r := range b.Records() {
			line = record.AppendJSON(line[:0], &r)
			e.Add(r.ID, line)
		}
	}
	got := e.Result()
	got.Monitors = Outcomes(sum)
	return got, rp
}

// A collection recorded with service names redacted replays exactly: the pseudonyms are the same
// throughout the transcript (answers, queries, expected records), and no name is left in it.
func TestTranscriptRedactsServiceNames(t *testing.T) {
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return transcriptNow }, Services: 2})
	names := srv.ServiceNames()
	dir := filepath.Join(t.TempDir(), "rec")
	want := recordTranscript(t, srv, dir, names)
	if want.Records == 0 {
		t.Fatal("the recorded run delivered nothing")
	}
	assertNotInTranscript(t, dir, names)
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Meta.RedactedServices != len(names) {
		t.Errorf("transcript says %d names redacted; want %d", tr.Meta.RedactedServices, len(names))
	}
	got, _ := replayCollect(t, tr)
	if diff := want.Diff(got); len(diff) > 0 {
		t.Errorf("replay with pseudonyms is not exact: %s", strings.Join(diff[:min(len(diff), 10)], "; "))
	}
}

// assertNotInTranscript fails when any value is in any file of dir, bodies decoded (base64,
// gzip) included.
func assertNotInTranscript(t *testing.T, dir string, values []string) {
	t.Helper()
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
					t.Errorf("%s holds %q", path, v)
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}

// wireSpy sees every exchange under the recording transport and keeps the credentials that went
// over the wire: Authorization values and the tokens in them, and the tokens of token answers.
type wireSpy struct {
	mu     sync.Mutex
	values []string
}

func (s *wireSpy) RoundTrip(req *http.Request) (*http.Response, error) {
	if a := req.Header.Get("Authorization"); a != "" {
		_, tok, _ := strings.Cut(a, " ")
		s.add(a, tok)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != "/oauth/token" {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(b, &tok) == nil {
		s.add(tok.AccessToken)
	}
	return resp, err
}

func (s *wireSpy) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values = append(s.values, v...)
}

// No secret, token or Authorization value is ever in a transcript: a collection (two tokens, the
// second after a forced refresh) recorded against the simulator with both secret forms, every
// byte of every file searched, bodies decoded from base64 and gzip.
func TestTranscriptHoldsNoSecret(t *testing.T) {
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return transcriptNow }, Services: 2})
	for name, doc := range map[string][]byte{"connector": srv.ConnectorJSON(), "service key": srv.ServiceKeyJSON()} {
		t.Run(name, func(t *testing.T) {
			secrets := testkit.SecretsIn(doc)
			if len(secrets) == 0 {
				t.Fatalf("no secret to look for in %s", doc)
			}
			dir := filepath.Join(t.TempDir(), "rec")
			rec, err := transcript.Create(dir, transcript.Options{})
			if err != nil {
				t.Fatal(err)
			}
			spy := &wireSpy{}
			c, err := Connect(doc, "", ClientOptions{Base: spy, Recorder: rec, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			rc := &Recording{Recorder: rec, Now: transcriptNow}
			cfg := transcriptConfig()
			cfg.Monitors = []string{"hm", "exm", "status", "logs"}
			store, err := state.NewFileStore(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			r := (&Runner{Config: cfg, Store: store, Sinks: []Sink{rc.Sink()}, Now: func() time.Time { return transcriptNow }}).For(c)
			r.Run(context.Background(), Request{})
			if _, err := c.Tokens().Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			sum := r.Run(context.Background(), Request{Backfill: &Range{From: transcriptNow.Add(-time.Hour), To: transcriptNow.Add(-50 * time.Minute)}})
			if err := rc.Close(c, cfg, nil, sum); err != nil {
				t.Fatal(err)
			}
			if len(spy.values) < 4 {
				t.Fatalf("the spy saw %d credentials on the wire; want two tokens and their Authorization values at least", len(spy.values))
			}
			assertNotInTranscript(t, dir, slices.Concat(secrets, spy.values))
		})
	}
}

// The suite can fail: a transcript missing one answer the run needs makes the replay loud (the
// request is named, the window fails) and the records differ from the recorded ones.
func TestTranscriptReplayOfATamperedTranscriptIsNotExact(t *testing.T) {
	src := filepath.Join(tenantsDir, "sim-default")
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, transcript.ExchangesFile))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	dropped := ""
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if dropped == "" && strings.Contains(line, "provider=hm&resolution") {
			dropped = line
			continue
		}
		kept = append(kept, line)
	}
	if dropped == "" {
		t.Fatal("no hm metrics exchange in the transcript")
	}
	if err := os.WriteFile(filepath.Join(dir, transcript.ExchangesFile), []byte(strings.Join(kept, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr, err := transcript.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want transcript.Expected
	if err := tr.ReadJSON(transcript.ExpectedFile, &want); err != nil {
		t.Fatal(err)
	}
	got, _ := replayCollect(t, tr)
	if diff := want.Diff(got); len(diff) == 0 {
		t.Error("a replay without the hm answer delivered exactly the recorded records")
	}
}
