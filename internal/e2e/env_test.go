package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// t0 is the frozen clock of the simulator and the runner: windows end at 10:05 (lag 2m).
var t0 = time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)

const (
	tenantName = "sim"
	oldSecret  = "e2e-old-secret-Zq81"
	newSecret  = "e2e-new-secret-Kp47"
)

// faultMonitors are the monitors of the fault suite: three providers with different densities.
var faultMonitors = []string{"hm", "jam", "exm"}

// front is the listener the collector talks to. It hands requests to the current simulator
// (swapped to rotate the client secret) unless override answers them first.
type front struct {
	cur      atomic.Pointer[sim.Server]
	override atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := f.override.Load(); o != nil && (*o)(w, r) {
		return
	}
	f.cur.Load().ServeHTTP(w, r)
}

// setOverride installs h (nil removes it); h returns true when it answered the request.
func (f *front) setOverride(h func(w http.ResponseWriter, r *http.Request) bool) {
	if h == nil {
		f.override.Store(nil)
		return
	}
	f.override.Store(&h)
}

// env is one collector against one simulator behind a front, with a file store and a memory sink.
type env struct {
	t          *testing.T
	sim        *sim.Server // the simulator serving with the old secret
	front      *front
	srv        *httptest.Server
	secretFile string
	store      *state.FileStore
	sink       *testkit.MemSink[sink.Batch]
	cfg        collect.Config
	opts       calm.Options
	logs       *testkit.SyncBuffer
	reading    sim.Reading
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvReading(t, sim.Readings()[0])
}

// newEnvReading is newEnv against a tenant answering as v reads SAP's material (sim.Readings:
// the default reading with binary and gzip, the strict one with JSON uncompressed).
func newEnvReading(t *testing.T, v sim.Reading) *env {
	t.Helper()
	e := &env{t: t, front: &front{}, sink: &testkit.MemSink[sink.Batch]{}, logs: &testkit.SyncBuffer{}, reading: v}
	e.sim = newSim(oldSecret, 0, v)
	e.front.cur.Store(e.sim)
	e.srv = httptest.NewServer(e.front)
	t.Cleanup(e.srv.Close)
	e.secretFile = filepath.Join(t.TempDir(), "connector.json")
	e.writeSecret(oldSecret)
	var err error
	if e.store, err = state.NewFileStore(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.cfg = collect.DefaultConfig()
	e.cfg.Monitors = faultMonitors
	e.cfg.Lookback = 2 * time.Hour // 24 windows of 5m
	e.cfg.Span = 15 * time.Minute  // 8 request series per monitor
	e.cfg.Concurrency = 1          // counted faults hit one monitor after the other
	e.opts = calm.Options{
		MaxRetries: 2, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		PageSize: 40, MaxBodyBytes: 16 << 20,
		Logger: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return e
}

func newSim(secret string, services int, v sim.Reading) *sim.Server {
	return sim.New(v.With(sim.Config{ClientSecret: secret, Services: services, Now: func() time.Time { return t0 }}))
}

func (e *env) writeSecret(secret string) {
	b, _ := json.Marshal(map[string]string{
		"name": tenantName, "authenticationServer": e.srv.URL, "clientId": sim.DefaultClientID,
		"clientSecret": secret, "url": e.srv.URL,
	})
	if err := os.WriteFile(e.secretFile, b, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// runner builds a runner the way calmctl and the Lambda do: the connector secret is read from
// its source (the file) for every run, and a client is built from it.
func (e *env) runner(httpTimeout time.Duration) *collect.Runner {
	e.t.Helper()
	raw, err := os.ReadFile(e.secretFile)
	if err != nil {
		e.t.Fatal(err)
	}
	settings, _, err := calm.ParseSettings(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	o := e.opts
	o.HTTPClient = &http.Client{Timeout: httpTimeout}
	c, err := calm.New(settings, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return &collect.Runner{Config: e.cfg, Tenant: settings.Name, Client: c, Scopes: c.Tokens(), Store: e.store,
		Sinks: []collect.Sink{e.sink}, Owner: "e2e", Now: func() time.Time { return t0 }, Logger: e.opts.Logger}
}

func (e *env) run(ctx context.Context, httpTimeout time.Duration) collect.Summary {
	return e.runner(httpTimeout).Run(ctx, collect.Request{})
}

// windowKey names one delivered window.
func windowKey(b sink.Batch) string {
	return b.Monitor + " " + b.From.UTC().Format(time.RFC3339) + "–" + b.To.UTC().Format(time.RFC3339)
}

// expectedIDs are the ids of every point the simulator serves for a monitor in [from, to) at the
// collector's resolution.
func (e *env) expectedIDs(monitor string, from, to time.Time) map[string]bool {
	ids := map[string]bool{}
	for _, p := range e.sim.Expected(monitor, from, to, e.cfg.Resolution) {
		ids[record.PointID(tenantName, monitor, p.Measure, p.Merged(), p.Time)] = true
	}
	return ids
}

// checkPending checks the state between runs: for every monitor, what was delivered is exactly
// the simulator's points of [first window, checkpoint), and nothing at or past the checkpoint.
func (e *env) checkPending(from time.Time) {
	e.t.Helper()
	got := e.idsByMonitor()
	for _, m := range e.cfg.Monitors {
		cp, ok, err := e.store.Get(context.Background(), tenantName, m)
		if err != nil {
			e.t.Fatalf("%s: read checkpoint: %v", m, err)
		}
		next := from
		if ok {
			next = cp.Next
		}
		if next.Before(from) || next.After(t0) {
			e.t.Errorf("%s: checkpoint %s outside [%s, %s]", m, next, from, t0)
		}
		want := map[string]bool{}
		if next.After(from) {
			want = e.expectedIDs(m, from, next)
		}
		for id := range want {
			if got[m][id] == 0 {
				e.t.Errorf("%s: point %s before the checkpoint %s was never delivered (skipped)", m, id, next.Format(time.RFC3339))
				break
			}
		}
		later := e.expectedIDs(m, from, t0)
		for id := range got[m] {
			if !want[id] && later[id] {
				// Delivered past the checkpoint: allowed only for a window whose batch went out
				// but whose checkpoint did not (it comes again: a re-delivery).
				continue
			}
			if !later[id] {
				e.t.Errorf("%s: delivered %s, which is not a point of the simulator", m, id)
				break
			}
		}
	}
}

// checkComplete checks the union of everything delivered over all runs: exactly the
// simulator's points of [from, to) for every monitor, each id once unless its window was
// delivered more than once.
func (e *env) checkComplete(from, to time.Time) {
	e.t.Helper()
	batches := e.sink.Batches()
	deliveries := map[string]int{}
	for _, b := range batches {
		if b.Len() > 0 {
			deliveries[windowKey(b)]++
		}
	}
	count := map[string]int{}
	windowOf := map[string]string{}
	for _, b := range batches {
		for r := range b.Records() {
			count[r.ID]++
			windowOf[r.ID] = windowKey(b)
		}
	}
	for _, m := range e.cfg.Monitors {
		want := e.expectedIDs(m, from, to)
		if len(want) == 0 {
			e.t.Errorf("%s: the simulator serves no point in [%s, %s): the test proves nothing", m, from, to)
		}
		missing := 0
		for id := range want {
			if count[id] == 0 {
				missing++
			}
		}
		if missing > 0 {
			e.t.Errorf("%s: %d of %d points never delivered", m, missing, len(want))
		}
		if cp, ok, _ := e.store.Get(context.Background(), tenantName, m); !ok || !cp.Next.Equal(to) || cp.LastError != "" {
			e.t.Errorf("%s: final checkpoint %+v (ok %v), want Next %s and no error", m, cp, ok, to)
		}
	}
	all := map[string]bool{}
	for _, m := range e.cfg.Monitors {
		for id := range e.expectedIDs(m, from, to) {
			all[id] = true
		}
	}
	dups := 0
	for id, n := range count {
		if !all[id] {
			e.t.Errorf("delivered %s (window %s), which is not a point of the simulator", id, windowOf[id])
		}
		if n > 1 && deliveries[windowOf[id]] < 2 {
			dups++
		}
	}
	if dups > 0 {
		e.t.Errorf("%d points delivered more than once outside re-delivered windows", dups)
	}
}

func (e *env) idsByMonitor() map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, b := range e.sink.Batches() {
		if out[b.Monitor] == nil {
			out[b.Monitor] = map[string]int{}
		}
		for r := range b.Records() {
			out[b.Monitor][r.ID]++
		}
	}
	return out
}

// errorsOf lists the run error and every monitor error of a summary.
func errorsOf(s collect.Summary) []string {
	var out []string
	if s.Error != "" {
		out = append(out, "run: "+s.Error)
	}
	for _, m := range s.Monitors {
		if m.Error != "" {
			out = append(out, m.Monitor+": "+m.Error)
		}
	}
	sort.Strings(out)
	return out
}

// noSecrets fails when a summary or the logs hold a client secret or a bearer token.
func (e *env) noSecrets(s collect.Summary) {
	e.t.Helper()
	b, _ := json.Marshal(s)
	for _, where := range []struct{ name, text string }{{"summary", string(b)}, {"logs", e.logs.String()}} {
		for _, secret := range []string{oldSecret, newSecret} {
			if strings.Contains(where.text, secret) {
				e.t.Errorf("the %s holds the client secret", where.name)
			}
		}
		if strings.Contains(where.text, "Bearer ey") || strings.Contains(where.text, "access_token") {
			e.t.Errorf("the %s holds a token", where.name)
		}
	}
}

func summaryText(s collect.Summary) string {
	var b strings.Builder
	_ = s.WriteTable(&b) // a strings.Builder does not fail
	return b.String()
}

func fmtErrs(errs []string) string { return fmt.Sprintf("%q", errs) }
