package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/conntest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// behaviourMonitors are the monitors every behaviour is tried with: one metrics monitor of each
// form (plain, batched by service, sparse), the logs and traces monitors (the raw-data APIs) and
// the status events monitor.
var behaviourMonitors = []string{"hm", "rum", "jam", "logs", "traces", "status"}

// behaviourTenant is the tenant name of the simulator's connector (sim.ConnectorJSON).
const behaviourTenant = "sim"

// TestEveryBehaviourIsExactOrLoud tries the collector against every tenant behaviour of the
// simulator (sim.BehaviourNames: ways a real tenant may answer that SAP's material allows):
// a pair of scheduled runs a settle horizon apart, a backfill of an hour 3 hours old, and the
// connection test. Each must be exact (every point the tenant serves delivered once) or loud
// (the run not ok, the checkpoint not past the missing data; the connection test warns or
// fails), never ok with data missing. A behaviour added to the simulator is tried here without
// a change to this test.
func TestEveryBehaviourIsExactOrLoud(t *testing.T) {
	for _, name := range sim.BehaviourNames() {
		t.Run(name, func(t *testing.T) {
			b, err := sim.ParseBehaviours(name)
			if err != nil {
				t.Fatal(err)
			}
			loud := false
			t.Run("scheduled pair", func(t *testing.T) { loud = scheduledPair(t, b) || loud })
			t.Run("backfill 3h old", func(t *testing.T) { loud = backfillOld(t, b) || loud })
			t.Run("connection test", func(t *testing.T) { connectionTest(t, b, loud) })
		})
	}
}

// behaviourEnv is one collector against a simulator with behaviours, on a settable clock.
type behaviourEnv struct {
	t     *testing.T
	clock *testkit.Clock
	sim   *sim.Server
	store *state.FileStore
	sink  *testkit.MemSink[sink.Batch]
	cfg   collect.Config
}

func newBehaviourEnv(t *testing.T, b sim.Behaviours) *behaviourEnv {
	t.Helper()
	e := &behaviourEnv{t: t, clock: testkit.NewClock(t0), sink: &testkit.MemSink[sink.Batch]{}}
	e.sim = sim.StartTest(t, sim.Config{Now: e.clock.Now, Behaviours: b})
	var err error
	if e.store, err = state.NewFileStore(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	e.cfg = collect.DefaultConfig()
	e.cfg.Monitors = behaviourMonitors
	return e
}

func (e *behaviourEnv) run(req collect.Request) collect.Summary {
	e.t.Helper()
	settings, _, err := calm.ParseSettings(e.sim.ConnectorJSON())
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Logger: slog.New(slog.DiscardHandler), PageSize: 40, MaxRetries: 2, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	r := &collect.Runner{Config: e.cfg, Tenant: settings.Name, Client: c, Scopes: c.Tokens(), Store: e.store,
		Sinks: []collect.Sink{e.sink}, Owner: "behaviours", Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)}
	return r.Run(context.Background(), req)
}

// served is what the simulator serves now for monitor in [from, to): an identity per point,
// log record, span or status event, as the collector's records carry it (identity). The status
// events are those that started in [from, to), as they are now: an event that started before
// the range may be served for it or not (the API may filter on start time or on overlap).
func (e *behaviourEnv) served(monitor string, from, to time.Time) map[string]time.Time {
	out := map[string]time.Time{}
	switch monitor {
	case "logs":
		for _, l := range e.sim.ExpectedLogs(e.sim.ServiceIDs(), from, to) {
			out[l.ExceptionID] = l.Time
		}
		return out
	case "traces":
		for _, sp := range e.sim.ExpectedSpans(e.sim.ServiceIDs(), from, to, true) {
			out[sp.TraceID+"/"+sp.SpanID] = sp.Start
		}
		return out
	case "status":
		for _, ev := range e.sim.ExpectedEvents(from, to) {
			start, err := time.Parse(time.RFC3339, ev.EventStartTime)
			if err == nil && !start.Before(from) {
				out[ev.EventID+"/"+ev.EventStatus+"/"+ev.EventEndTime] = start
			}
		}
		return out
	}
	for _, p := range e.sim.Expected(monitor, from, to, e.cfg.Resolution) {
		out[record.PointID(behaviourTenant, monitor, p.Measure, p.Merged(), p.Time)] = p.Time
	}
	return out
}

// identity is what served keys a delivered record by: its exception id for a log record, its
// trace and span id for a span, an event's id, status and end for a status event (a changed
// event is delivered again: each state once), its id otherwise.
func identity(r record.Record) string {
	switch r.Kind() {
	case record.KindLog:
		return r.Attr("exceptionId")
	case record.KindSpan:
		return r.Attr(record.AttrTraceID) + "/" + r.Attr(record.AttrSpanID)
	case record.KindEvent:
		return r.Attr("eventId") + "/" + r.Attr("eventStatus") + "/" + r.Attr("eventEndTime")
	}
	return r.ID
}

// delivered counts every delivered record of monitor by identity.
func (e *behaviourEnv) delivered(monitor string) map[string]int {
	out := map[string]int{}
	for _, b := range e.sink.Batches() {
		if b.Monitor == monitor {
			for r := range b.Records() {
				out[identity(r)]++
			}
		}
	}
	return out
}

// exactOrLoud checks one monitor after runs that covered [from, to): every point the
// simulator serves there was delivered exactly once, except points at or after held (the
// checkpoint; zero for a backfill), which only a loud run may leave undelivered; nothing was
// delivered that the simulator does not serve, nothing twice.
func (e *behaviourEnv) exactOrLoud(monitor string, from, to, held time.Time, loud bool) {
	e.t.Helper()
	want := e.served(monitor, from, to)
	got := e.delivered(monitor)
	if len(want) == 0 {
		e.t.Errorf("%s: the simulator serves nothing in %s–%s: the test proves nothing", monitor, from, to)
	}
	missing, heldBack := 0, 0
	for id, at := range want {
		switch {
		case got[id] > 0:
		case !held.IsZero() && !at.Before(held) || held.IsZero() && loud:
			heldBack++
		default:
			missing++
		}
	}
	if missing > 0 {
		e.t.Errorf("%s: %d of %d points served in %s–%s were never delivered, and their window was not held (checkpoint %s)",
			monitor, missing, len(want), from.Format(time.Kitchen), to.Format(time.Kitchen), held.Format(time.Kitchen))
	}
	if heldBack > 0 && !loud {
		e.t.Errorf("%s: %d points not delivered while every run said ok", monitor, heldBack)
	}
	also := e.alsoServed(monitor, from, to)
	for id, n := range got {
		if n > 1 {
			e.t.Errorf("%s: %s delivered %d times", monitor, id, n)
			break
		}
		if _, ok := want[id]; !ok && !also(id) {
			e.t.Errorf("%s: delivered %s, which the simulator does not serve in %s–%s", monitor, id, from, to)
			break
		}
	}
}

// alsoServed tells which delivered identities are right although served does not hold them:
// for status events, an earlier state of an event (delivered when it was current) and an event
// that overlaps [from, to) but started before it; for every other monitor, none.
func (e *behaviourEnv) alsoServed(monitor string, from, to time.Time) func(id string) bool {
	if monitor != "status" {
		return func(string) bool { return false }
	}
	events := map[string]bool{}
	for _, ev := range e.sim.ExpectedEvents(from, to) {
		events[ev.EventID] = true
	}
	return func(id string) bool {
		eventID, _, _ := strings.Cut(id, "/")
		return events[eventID]
	}
}

// collected is the range a scheduled run at now (the last of runs that started at first)
// delivers of monitor, and where its checkpoint may be at most: the windows up to now − lag
// from the lookback on; for status events, the event lookback up to now.
func (e *behaviourEnv) collected(monitor string, first time.Time) (from, end time.Time) {
	if monitor == "status" {
		return first.Add(-e.cfg.EventLookback).Truncate(time.Second), e.clock.Now()
	}
	return first.Add(-e.cfg.Lag).Truncate(e.cfg.Resolution).Add(-e.cfg.Lookback), e.clock.Now().Add(-e.cfg.Lag).Truncate(e.cfg.Resolution)
}

// scheduledPair runs twice, a settle horizon (30 minutes) apart, so that the second run
// re-checks every window of the first even for a monitor re-checked once per horizon (logs,
// traces), and checks each monitor up to the last run's end; it returns whether a run was loud.
func scheduledPair(t *testing.T, b sim.Behaviours) bool {
	e := newBehaviourEnv(t, b)
	s1 := e.run(collect.Request{})
	e.clock.Advance(e.cfg.Settle)
	s2 := e.run(collect.Request{})
	loud := !s1.OK || !s2.OK
	for _, m := range behaviourMonitors {
		from, end := e.collected(m, t0)
		cp, ok, err := e.store.Get(context.Background(), behaviourTenant, m)
		if err != nil || !ok {
			t.Fatalf("%s: checkpoint %v %v", m, ok, err)
		}
		if cp.Next.After(end) {
			t.Errorf("%s: checkpoint %s past the last run's end %s", m, cp.Next, end)
		}
		e.exactOrLoud(m, from, end, cp.Next, loud)
	}
	logLoud(t, "scheduled runs", loud, s1, s2)
	return loud
}

// backfillOld backfills the hour that ended 2 hours ago (3 hours old at its start); the status
// events, of which an hour holds few, the day that ended then.
func backfillOld(t *testing.T, b sim.Behaviours) bool {
	e := newBehaviourEnv(t, b)
	from := t0.Truncate(time.Hour).Add(-3 * time.Hour)
	var windowed []string
	for _, m := range behaviourMonitors {
		if m != "status" {
			windowed = append(windowed, m)
		}
	}
	s := e.run(collect.Request{Monitors: windowed, Backfill: &collect.Range{From: from, To: from.Add(time.Hour)}})
	for _, m := range windowed {
		e.exactOrLoud(m, from, from.Add(time.Hour), time.Time{}, !s.OK)
	}
	day := collect.Range{From: from.Add(time.Hour - e.cfg.EventLookback), To: from.Add(time.Hour)}
	ss := e.run(collect.Request{Monitors: []string{"status"}, Backfill: &day})
	e.exactOrLoud("status", day.From, day.To, time.Time{}, !ss.OK)
	logLoud(t, "backfill", !s.OK || !ss.OK, s, ss)
	return !s.OK || !ss.OK
}

// connectionTest runs the connection test (calmctl test's) against the tenant: when collecting
// from it was loud, the test must warn or fail too, not pass as if the tenant were read whole.
func connectionTest(t *testing.T, b sim.Behaviours, collectionLoud bool) {
	e := newBehaviourEnv(t, b)
	rep := conntest.Run(context.Background(), e.sim.ConnectorJSON(), conntest.Options{Monitors: behaviourMonitors, Now: e.clock.Now})
	quiet := rep.OK
	for _, c := range rep.Checks {
		if c.Status != conntest.Pass && c.Status != conntest.Skip {
			quiet = false
		}
	}
	if collectionLoud && quiet {
		t.Errorf("collection from this tenant is incomplete, but the connection test passes every check: %+v", rep.Checks)
	}
}

func logLoud(t *testing.T, what string, loud bool, sums ...collect.Summary) {
	t.Helper()
	if !loud {
		return
	}
	for _, s := range sums {
		for _, m := range s.Monitors {
			if m.Status != "ok" {
				t.Logf("%s loud: %s %s: %s%s", what, m.Monitor, m.Status, m.Error, m.Detail)
			}
		}
	}
}
