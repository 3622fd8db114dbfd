package collect

import (
	"context"
	"iter"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// records returns the records s accepted for monitor ("" for every monitor), in order.
func records(s *testkit.MemSink[sink.Batch], monitor string) []record.Record {
	var out []record.Record
	for _, b := range s.Batches() {
		if monitor == "" || b.Monitor == monitor {
			out = slices.AppendSeq(out, b.Records())
		}
	}
	return out
}

type env struct {
	clock *testkit.Clock
	sim   *sim.Server
	store *state.FileStore
	sink  *testkit.MemSink[sink.Batch]
	r     *Runner
}

var t0 = ts("2026-11-25T10:07:00Z")

var quiet = slog.New(slog.DiscardHandler)

func newEnv(t *testing.T, monitors ...string) *env {
	t.Helper()
	return newEnvWith(t, sim.Config{}, monitors...)
}

// newEnvWith is newEnv against a simulator of cfg (e.g. Strict).
func newEnvWith(t *testing.T, cfg sim.Config, monitors ...string) *env {
	t.Helper()
	e := &env{clock: testkit.NewClock(t0), sink: &testkit.MemSink[sink.Batch]{}}
	cfg.Now = e.clock.Now
	e.sim = sim.New(cfg)
	if err := e.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sim.Close() })
	e.connect(t, e.sim.ConnectorJSON(), monitors)
	return e
}

// connect sets e's file store and a runner of monitors collecting from the tenant of the
// connector conn into e's sink, on e's clock, with retries in milliseconds.
func (e *env) connect(t *testing.T, conn []byte, monitors []string) {
	t.Helper()
	settings, _, err := calm.ParseSettings(conn)
	if err != nil {
		t.Fatal(err)
	}
	client, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{}, Logger: quiet,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxRetries: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.store, err = state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rcfg := DefaultConfig()
	rcfg.Monitors = monitors
	e.r = &Runner{Config: rcfg, Tenant: settings.Name, Client: client, Scopes: client.Tokens(), Store: e.store,
		Sinks: []Sink{e.sink}, Owner: "test-run", Now: e.clock.Now, Logger: quiet}
}

// expectedIDs are the ids of every point the simulator holds for a monitor in [from, to).
func (e *env) expectedIDs(monitor string, from, to time.Time) map[string]bool {
	ids := map[string]bool{}
	for _, p := range e.sim.Expected(monitor, from, to, 5*time.Minute) {
		ids[record.PointID(e.r.Tenant, monitor, p.Measure, p.Merged(), p.Time)] = true
	}
	return ids
}

// checkExactlyOnce checks that the sink holds each point the simulator has for monitor in
// [from, to) exactly once, and nothing else of monitor.
func (e *env) checkExactlyOnce(t *testing.T, monitor string, from, to time.Time) {
	t.Helper()
	want := e.expectedIDs(monitor, from, to)
	got := map[string]bool{}
	for _, r := range records(e.sink, monitor) {
		if got[r.ID] {
			t.Errorf("%s: record %s delivered twice", monitor, r.ID)
		}
		got[r.ID] = true
		if !want[r.ID] {
			t.Errorf("%s: record %s %s %s %v is not a point of the simulator", monitor, r.ID, r.Name(), r.Time, r.AttrMap())
		}
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Errorf("%s: delivered %d points, the simulator holds %d", monitor, len(got), len(want))
	}
}

func mustOK(t *testing.T, s Summary) {
	t.Helper()
	if !s.OK {
		t.Fatalf("run not ok: %+v", s)
	}
}

// simulators are the readings of SAP's material the collector must be exact against: the
// default simulator's and the strict one's (rows paging, capped pages, error bodies, …).
var simulators = []struct {
	name string
	cfg  sim.Config
}{{"default", sim.Config{}}, {"strict", sim.Config{Strict: true}}}

func TestTwoScheduledRunsDeliverEveryPointExactlyOnce(t *testing.T) {
	for _, sv := range simulators {
		t.Run(sv.name, func(t *testing.T) { twoScheduledRuns(t, sv.cfg) })
	}
}

func twoScheduledRuns(t *testing.T, cfg sim.Config) {
	monitors := []string{"hm", "rum", "jam", "exm", "iep", "cpi", "idoc"}
	e := newEnvWith(t, cfg, monitors...)
	s1 := e.r.Run(context.Background(), Request{})
	mustOK(t, s1)
	e.clock.Advance(23 * time.Minute) // 10:30 → due up to 10:25
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)

	for i, m := range monitors {
		if c := s1.Monitors[i].Collisions + s2.Monitors[i].Collisions; c != 0 {
			t.Errorf("%s: %d records shared an id with other content", m, c)
		}
		if s1.Monitors[i].Windows != 12 || s2.Monitors[i].Windows != 4 {
			t.Errorf("%s: windows %d then %d, want 12 then 4", m, s1.Monitors[i].Windows, s2.Monitors[i].Windows)
		}
		e.checkExactlyOnce(t, m, ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:25:00Z"))
		cp, ok, err := e.store.Get(context.Background(), e.r.Tenant, m)
		if err != nil || !ok || !cp.Next.Equal(ts("2026-11-25T10:25:00Z")) || cp.LastError != "" {
			t.Errorf("%s: checkpoint %+v %v %v", m, cp, ok, err)
		}
		if s2.Monitors[i].LagSeconds != 300 {
			t.Errorf("%s: lag %vs, want 300s (now 10:30, data to 10:25)", m, s2.Monitors[i].LagSeconds)
		}
	}
	// Steady state: one request series per monitor per run (rum: a discovery call + one batch),
	// and one limit=1 count re-checking the settle horizon for late data (settle.go).
	if got := s2.Monitors[0].Requests; got != 2 && !cfg.Strict {
		t.Errorf("hm made %d requests in steady state, want 2", got)
	}
}

// A 24 h backfill of every metrics monitor delivers exactly the simulator's points, against
// both simulators.
func TestBackfillOfADayIsExactAgainstBothSimulators(t *testing.T) {
	for _, sv := range simulators {
		t.Run(sv.name, func(t *testing.T) {
			var ids []string
			for _, m := range monitor.All() {
				if m.IsMetrics() {
					ids = append(ids, m.ID)
				}
			}
			e := newEnvWith(t, sv.cfg, ids...)
			rng := Range{From: ts("2026-11-24T09:00:00Z"), To: ts("2026-11-25T09:00:00Z")}
			s := e.r.Run(context.Background(), Request{Backfill: &rng})
			mustOK(t, s)
			for _, m := range ids {
				want := e.expectedIDs(m, rng.From, rng.To)
				got := records(e.sink, m)
				seen := map[string]bool{}
				for _, r := range got {
					if seen[r.ID] {
						t.Errorf("%s: record %s delivered twice", m, r.ID)
					}
					seen[r.ID] = true
					if !want[r.ID] {
						t.Errorf("%s: record %s %s is not a point of the simulator", m, r.Name(), r.Time)
					}
				}
				if len(seen) != len(want) {
					t.Errorf("%s: delivered %d points, the simulator holds %d", m, len(seen), len(want))
				}
			}
		})
	}
}

func TestBackfillDeliversExactlyTheSimulatorsPointsAndLeavesCheckpoints(t *testing.T) {
	e := newEnv(t, "hm", "jam")
	rng := Range{From: ts("2026-11-25T06:00:00Z"), To: ts("2026-11-25T09:30:00Z")}
	s := e.r.Run(context.Background(), Request{Backfill: &rng})
	mustOK(t, s)
	if s.Mode != ModeBackfill {
		t.Errorf("mode = %s", s.Mode)
	}
	for _, m := range []string{"hm", "jam"} {
		want := e.expectedIDs(m, rng.From, rng.To)
		got := records(e.sink, m)
		ids := map[string]bool{}
		for _, r := range got {
			ids[r.ID] = true
			if !want[r.ID] {
				t.Errorf("%s: unexpected record %s at %s", m, r.ID, r.Time)
			}
		}
		if len(ids) != len(got) || len(ids) != len(want) {
			t.Errorf("%s: %d records (%d distinct), want %d", m, len(got), len(ids), len(want))
		}
		if _, ok, _ := e.store.Get(context.Background(), e.r.Tenant, m); ok {
			t.Errorf("%s: a backfill wrote a checkpoint", m)
		}
	}
	if s.Monitors[0].Windows != 42 {
		t.Errorf("windows = %d, want 42 (3.5h of 5m)", s.Monitors[0].Windows)
	}
}

func TestFailingSinkKeepsTheCheckpointAndTheWindowComesAgain(t *testing.T) {
	e := newEnv(t, "hm")
	bad := ts("2026-11-25T09:35:00Z")
	e.sink.Fail = func(b sink.Batch) bool { return b.From.Equal(bad) }
	s1 := e.r.Run(context.Background(), Request{})
	if s1.OK || s1.Monitors[0].Error == "" || !strings.Contains(s1.Monitors[0].Error, "disk full") {
		t.Fatalf("first run: %+v", s1.Monitors[0])
	}
	if s1.Monitors[0].Windows != 6 || !s1.Monitors[0].To.Equal(bad) {
		t.Errorf("first run delivered %d windows up to %s, want 6 up to %s", s1.Monitors[0].Windows, s1.Monitors[0].To, bad)
	}
	cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "hm")
	if !cp.Next.Equal(bad) || !strings.Contains(cp.LastError, "disk full") {
		t.Errorf("checkpoint after the failure = %+v, want Next %s and the error", cp, bad)
	}
	e.sink.Fail = nil
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	if !s2.Monitors[0].From.Equal(bad) {
		t.Errorf("second run started at %s, want the failed window %s", s2.Monitors[0].From, bad)
	}
	want := e.expectedIDs("hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"))
	got := map[string]int{}
	for _, r := range records(e.sink, "hm") {
		got[r.ID]++
	}
	if len(got) != len(want) {
		t.Errorf("%d distinct points delivered, want %d", len(got), len(want))
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("point %s delivered %d times", id, n)
		}
	}
	if cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "hm"); cp.LastError != "" {
		t.Errorf("LastError not cleared: %q", cp.LastError)
	}
}

func TestFailingMonitorDoesNotStopTheOthers(t *testing.T) {
	e := newEnv(t, "hm", "sum", "jam")
	e.sim.SetFaults(sim.Faults{MissingScopes: []string{sim.ScopeSUM}})
	s := e.r.Run(context.Background(), Request{})
	if s.OK || s.NothingDone() {
		t.Errorf("ok=%v nothingDone=%v, want a partial run", s.OK, s.NothingDone())
	}
	for _, m := range s.Monitors {
		switch m.Monitor {
		case "sum":
			if !strings.Contains(m.Error, "403") && !strings.Contains(strings.ToLower(m.Error), "scope") {
				t.Errorf("sum error = %q", m.Error)
			}
			if m.Windows != 0 {
				t.Errorf("sum delivered %d windows", m.Windows)
			}
		default:
			if m.Error != "" || m.Windows != 12 {
				t.Errorf("%s: %+v", m.Monitor, m)
			}
		}
	}
	if cp, ok, _ := e.store.Get(context.Background(), e.r.Tenant, "sum"); !ok || cp.LastError == "" || !cp.Next.Equal(ts("2026-11-25T09:05:00Z")) {
		t.Errorf("sum checkpoint = %+v, want the first window and the error", cp)
	}
}

func TestNearDeadlineStopsAndSavesWhatIsComplete(t *testing.T) {
	e := newEnv(t, "hm")
	e.r.Config.Lookback = 3 * time.Hour // three spans of 1h
	wall := testkit.NewClock(time.Now())
	e.r.wall = wall.Now
	deadline := wall.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// After the first span the (fake) wall clock jumps into the margin before the deadline.
	e.r.Progress = func(Progress) { wall.Set(deadline.Add(-time.Second)) }
	s := e.r.Run(ctx, Request{})
	m := s.Monitors[0]
	if m.Error != "" || m.Stopped != "deadline" || m.Windows != 12 {
		t.Fatalf("summary = %+v, want 12 windows then a stop for the deadline", m)
	}
	// A run stopped at its deadline is incomplete, not ok: in the summary, its table and EMF.
	if s.OK || !s.Incomplete {
		t.Errorf("run ok=%v incomplete=%v, want not ok and incomplete", s.OK, s.Incomplete)
	}
	var table, emf strings.Builder
	if err := s.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteEMF(&emf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "incomplete: the run stopped at its deadline") {
		t.Errorf("table does not say the run is incomplete:\n%s", table.String())
	}
	if !strings.Contains(emf.String(), `"RunSuccess":0,"RunIncomplete":1`) {
		t.Errorf("EMF does not report an incomplete, unsuccessful run:\n%s", emf.String())
	}
	cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "hm")
	if !cp.Next.Equal(ts("2026-11-25T08:05:00Z")) {
		t.Errorf("checkpoint = %s, want 08:05 (end of the first span)", cp.Next)
	}
	// The next run goes on from there.
	e.r.wall, e.r.Progress = nil, nil
	s2 := e.r.Run(context.Background(), Request{})
	if s2.Monitors[0].Windows != 24 || !s2.Monitors[0].From.Equal(ts("2026-11-25T08:05:00Z")) {
		t.Errorf("next run = %+v", s2.Monitors[0])
	}
	if !s2.OK || s2.Incomplete {
		t.Errorf("next run ok=%v incomplete=%v, want ok and complete", s2.OK, s2.Incomplete)
	}
}

// A request series that is still running when the deadline margin is half used up is cut short:
// the run saves what is complete and reports a stop for the deadline, not an error, before the
// invocation ends; the cut span follows next run.
func TestSlowRequestSeriesIsCutBeforeTheDeadline(t *testing.T) {
	e := newEnv(t, "hm")
	e.r.Config.DeadlineMargin = 1500 * time.Millisecond
	e.sim.SetFaults(sim.Faults{Slow: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s := e.r.Run(ctx, Request{})
	if len(s.Monitors) != 1 {
		t.Fatalf("summary = %+v", s)
	}
	m := s.Monitors[0]
	if m.Error != "" || m.Stopped != "deadline" || m.Windows != 0 {
		t.Fatalf("monitor summary = %+v, want a stop for the deadline without an error", m)
	}
	if s.OK || !s.Incomplete {
		t.Errorf("run ok=%v incomplete=%v, want not ok and incomplete", s.OK, s.Incomplete)
	}
	if ctx.Err() != nil {
		t.Error("the run returned after its context's deadline")
	}
	e.sim.SetFaults(sim.Faults{})
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	if s2.Monitors[0].Windows != 12 {
		t.Errorf("next run delivered %d windows, want the 12 of the lookback", s2.Monitors[0].Windows)
	}
}

func TestHeldLeaseSkipsTheRunAndNamesTheHolder(t *testing.T) {
	e := newEnv(t, "hm")
	if _, err := e.store.Acquire(context.Background(), e.r.Tenant, "lambda 1234-req", time.Hour); err != nil {
		t.Fatal(err)
	}
	before := e.sim.Requests()
	s := e.r.Run(context.Background(), Request{})
	if s.OK || !strings.Contains(s.Skipped, "lambda 1234-req") || len(s.Monitors) != 0 || s.NothingDone() {
		t.Fatalf("summary = %+v", s)
	}
	after := e.sim.Requests()
	for k, v := range after {
		if strings.Contains(k, "metrics") && v != before[k] {
			t.Errorf("a skipped run called %s", k)
		}
	}
}

func TestLeaseIsReleasedAfterTheRun(t *testing.T) {
	e := newEnv(t, "hm")
	mustOK(t, e.r.Run(context.Background(), Request{}))
	if _, err := e.store.Acquire(context.Background(), e.r.Tenant, "someone else", time.Minute); err != nil {
		t.Errorf("lease still held after the run: %v", err)
	}
}

func TestStatusEventsEmittedOnceAndAgainWhenChanged(t *testing.T) {
	for _, v := range sim.Readings() { // strict: capped pages, error bodies now and then
		t.Run(v.Name, func(t *testing.T) { statusEventsOnceAndAgain(t, v.Config) })
	}
}

func statusEventsOnceAndAgain(t *testing.T, cfg sim.Config) {
	e := newEnvWith(t, cfg, "status")
	s1 := e.r.Run(context.Background(), Request{})
	mustOK(t, s1)
	first := records(e.sink, "status")
	want := e.sim.ExpectedEvents(t0.Add(-24*time.Hour), t0)
	if len(first) == 0 || len(first) != len(want) {
		t.Fatalf("first run emitted %d events, the simulator has %d", len(first), len(want))
	}
	ids := map[string]bool{}
	for _, r := range first {
		ids[r.ID] = true
	}
	if len(ids) != len(first) {
		t.Errorf("first run emitted %d events with %d distinct ids", len(first), len(ids))
	}
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	if n := len(records(e.sink, "status")) - len(first); n != 0 {
		t.Errorf("an unchanged second run emitted %d events", n)
	}
	byKey := map[string]string{}
	for _, r := range first {
		byKey[r.EventKey()] = r.ID
	}
	// Six hours later events have started, changed status or ended.
	e.clock.Advance(6 * time.Hour)
	mustOK(t, e.r.Run(context.Background(), Request{}))
	third := records(e.sink, "status")[len(first):]
	if len(third) == 0 {
		t.Fatal("no event changed in six hours of simulated time")
	}
	changed := 0
	for _, r := range third {
		if old, ok := byKey[r.EventKey()]; ok {
			if old == r.ID {
				t.Errorf("event %s re-emitted unchanged", r.EventKey())
			}
			changed++
		}
	}
	t.Logf("third run: %d events, %d of them changed", len(third), changed)
	marks, _ := e.store.Marks(context.Background(), e.r.Tenant, "status", e.r.Now())
	if len(marks) == 0 {
		t.Error("no marks stored")
	}
}

func TestAutoSelectsGrantedConfirmedMonitors(t *testing.T) {
	e := newEnv(t, AutoMonitors)
	e.r.Config.Lookback = 5 * time.Minute
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	var ids []string
	for _, m := range s.Monitors {
		ids = append(ids, m.Monitor)
	}
	// the simulator grants every scope: auto runs every monitor but sum and traces, whose
	// scopes SAP does not publish.
	var want []string
	for _, m := range Monitors() {
		if id := m.Info().ID; id != "sum" && id != "traces" {
			want = append(want, id)
		}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("auto ran %v, want %v", ids, want)
	}
	for _, id := range []string{"sum:", "traces:"} {
		if !slices.ContainsFunc(s.NotSelected, func(s string) bool { return strings.HasPrefix(s, id) }) {
			t.Errorf("notSelected = %v, want %s among them", s.NotSelected, id)
		}
	}
}

func TestRetriesAndThrottlingAreCounted(t *testing.T) {
	e := newEnv(t, "hm")
	e.sim.SetFaults(sim.Faults{RateLimit: 2, RetryAfter: "0"})
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	m := s.Monitors[0]
	// 2 throttled, then the probe of from/to (a new tenant's first run: probeFromTo), then the
	// page, then one more to learn what the tenant's paging counts (the first page alone cannot
	// tell; see internal/calm pages), then the counts of the hour's halves (a first run reads an
	// hour: is it cut at a cap? parts.go)
	if m.Throttled != 2 || m.Retries != 2 || m.Requests != 7 {
		t.Errorf("requests=%d retries=%d throttled=%d, want 7, 2, 2", m.Requests, m.Retries, m.Throttled)
	}
}

// Points outside the asked range that the tenant's shape does not explain (a run learns the
// shape first: learnShape, which re-reads by period or shifted stamps) fail the range: what the
// tenant sent for it cannot be trusted whole. The points are counted, nothing is kept.
func TestPointsOutsideTheRangeFailTheInsideInvariant(t *testing.T) {
	c := &cannedClient{payload: loadOTLP(t, "testdata/hm.otlp.json")} // points at 10:00 and 10:05
	cfg := DefaultConfig()
	r := &Runner{Config: cfg, Tenant: "t", Client: c, Logger: quiet}
	mr := &monitorRun{Runner: r, Client: r.Client, m: Lookup("hm"), id: "hm", log: quiet}
	part := Range{From: ts("2025-11-25T10:05:00Z"), To: ts("2025-11-25T10:10:00Z")}
	out := newSpanRecords(part, cfg.Resolution)
	edges := spanEdges{span: part}
	err := mr.fetchPart(context.Background(), out, part, c, &edges)
	if invariantOf(err) != InvariantInside || !strings.Contains(err.Error(), "outside the asked range") {
		t.Fatalf("err = %v, want the inside invariant", err)
	}
	if out.dropped == 0 || edges.before == 0 {
		t.Errorf("dropped %d, edges %+v: the points outside were not counted", out.dropped, edges)
	}
	// Read by period (the shape learned that from/to are not honoured), the same answer is fine:
	// a period reaches past the range by design.
	out = newSpanRecords(part, cfg.Resolution)
	edges = spanEdges{span: part, period: true}
	if err := mr.fetchPart(context.Background(), out, part, c, &edges); err != nil {
		t.Errorf("read by period: %v", err)
	}
}

// blockingClient answers nothing until the request is cancelled.
type blockingClient struct{ cannedClient }

func (c *blockingClient) Metrics(ctx context.Context, _ calm.MetricsQuery) iter.Seq2[calm.MetricsPage, error] {
	return func(yield func(calm.MetricsPage, error) bool) {
		<-ctx.Done()
		yield(calm.MetricsPage{}, ctx.Err())
	}
}

// stealingStore loses the lease at the first renewal.
type stealingStore struct{ *state.FileStore }

func (s stealingStore) Renew(_ context.Context, l state.Lease, _ time.Duration) (state.Lease, error) {
	return state.Lease{}, &state.HeldError{Tenant: l.Tenant, Owner: "a faster run", Expires: time.Now().Add(time.Hour)}
}

func TestLostLeaseStopsTheRun(t *testing.T) {
	fs, _ := state.NewFileStore(t.TempDir())
	cfg := DefaultConfig()
	cfg.Monitors, cfg.LeaseTTL = []string{"hm"}, 30*time.Millisecond
	r := &Runner{Config: cfg, Tenant: "t", Client: &blockingClient{}, Store: stealingStore{fs}, Sinks: []Sink{&testkit.MemSink[sink.Batch]{}},
		Now: func() time.Time { return t0 }, Logger: quiet}
	s := r.Run(context.Background(), Request{})
	if s.OK || !strings.Contains(s.Error, "lost the lease") || !strings.Contains(s.Error, "a faster run") {
		t.Errorf("summary = %+v", s)
	}
	if cp, _, _ := fs.Get(context.Background(), "t", "hm"); !cp.Next.Equal(ts("2026-11-25T09:05:00Z")) || cp.LastError == "" {
		t.Errorf("checkpoint = %+v, want unmoved with the error", cp)
	}
}
