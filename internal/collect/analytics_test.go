package collect

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// kpiDefinition is a BPM KPI monitor given only as data, as a user writes it.
const kpiDefinition = `[{"id":"kpi-orders","title":"Order KPIs","provider":"KPI_HISTORY_TOTALS","scope":"calm-api.bm.read",
 "dimensions":["kpiId","kpiName","serviceId","serviceName"],"measures":[{"name":"kpiValue","method":"AVG"}],
 "filters":[{"key":"kpiId","values":["kpiId-1"]}]}]`

// analyticsEnv is a runner collecting the monitors given as data in defs (and ids) from the
// simulator.
func analyticsEnv(t *testing.T, defs string, ids ...string) *env {
	t.Helper()
	e := newEnv(t, ids...)
	extra, err := monitor.Builtin().ParseDefinitions([]byte(defs))
	if err != nil {
		t.Fatal(err)
	}
	e.r.Config.Extra = extra
	return e
}

// checkAnalyticsExactlyOnce checks that the sink holds every point the simulator serves for the
// analytics monitor m in [from, to) exactly once, with its value, and nothing else of m.
func checkAnalyticsExactlyOnce(t *testing.T, e *env, m monitor.Monitor, from, to time.Time) {
	t.Helper()
	want := map[string]float64{}
	for _, measure := range m.Measures {
		q := sim.AnalyticsQuery{Name: measure, Provider: m.DataProvider}
		q.Columns.Dimensions = m.Dimensions
		q.Columns.Metrics = append(q.Columns.Metrics, struct {
			Measure string `json:"measure"`
			Method  string `json:"method"`
		}{measure, m.Methods[measure]})
		for _, f := range m.Filters {
			q.Filters = append(q.Filters, sim.AnalyticsFilter{Key: f.Key, Values: f.Values})
		}
		for _, p := range e.sim.ExpectedAnalytics(q, from, to, 5*time.Minute) {
			want[record.PointID(e.r.Tenant, m.ID, p.Measure, p.Attributes, p.Time)] = p.Value
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s: the simulator serves no points in the range; the test proves nothing", m.ID)
	}
	got := map[string]bool{}
	for _, r := range records(e.sink, m.ID) {
		v, ok := want[r.ID]
		switch {
		case got[r.ID]:
			t.Errorf("%s: record %s delivered twice", m.ID, r.ID)
		case !ok:
			t.Errorf("%s: record %s %s %v is not a point of the simulator", m.ID, r.Name(), r.Time, r.AttrMap())
		case r.Value != v || !r.HasValue:
			t.Errorf("%s: record %s value %v, the simulator's %v", m.ID, r.ID, r.Value, v)
		}
		got[r.ID] = true
	}
	if len(got) != len(want) {
		t.Errorf("%s: delivered %d points, the simulator holds %d", m.ID, len(got), len(want))
	}
}

// TestAnalyticsGivenAsDataBackfillAndScheduledRunsAreExact: a BPM KPI monitor given only as
// data (the JSON a user hands to --extra-monitors) is collected exactly: a 24 h backfill, and
// two scheduled runs, every value once.
func TestAnalyticsGivenAsDataBackfillAndScheduledRunsAreExact(t *testing.T) {
	e := analyticsEnv(t, kpiDefinition, "kpi-orders")
	tab, err := e.r.Config.MonitorTable()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := tab.Lookup("kpi-orders")
	to := e.clock.Now().Truncate(time.Hour)
	s := e.r.Run(context.Background(), Request{Backfill: &Range{From: to.Add(-24 * time.Hour), To: to}})
	mustOK(t, s)
	checkAnalyticsExactlyOnce(t, e, m, to.Add(-24*time.Hour), to)

	e = analyticsEnv(t, kpiDefinition, "kpi-orders")
	s1 := e.r.Run(context.Background(), Request{})
	mustOK(t, s1)
	e.clock.Advance(23 * time.Minute)
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	if s1.Monitors[0].Windows == 0 || s2.Monitors[0].Windows == 0 {
		t.Fatalf("windows %d then %d: nothing scheduled", s1.Monitors[0].Windows, s2.Monitors[0].Windows)
	}
	checkAnalyticsExactlyOnce(t, e, m, s1.Monitors[0].From, s2.Monitors[0].To)
	cp, ok, err := e.store.Get(context.Background(), e.r.Tenant, "kpi-orders")
	if err != nil || !ok || !cp.Next.Equal(s2.Monitors[0].To) {
		t.Errorf("checkpoint %+v %v %v, want next %s", cp, ok, err, s2.Monitors[0].To)
	}
}

// TestBuiltinAnalyticsMonitorsAreExact: the shipped analytics rows against the simulator, one
// scheduled run each.
func TestBuiltinAnalyticsMonitorsAreExact(t *testing.T) {
	for _, id := range []string{"bpm", "jobs", "csa", "monitoring-events"} {
		e := newEnv(t, id)
		s := e.r.Run(context.Background(), Request{})
		mustOK(t, s)
		m, _ := monitor.Lookup(id)
		checkAnalyticsExactlyOnce(t, e, m, s.Monitors[0].From, s.Monitors[0].To)
		for _, r := range records(e.sink, id) {
			if r.Count() != m.IsCount(r.Name()) {
				t.Errorf("%s: %s count=%v, the table says %v", id, r.Name(), r.Count(), m.IsCount(r.Name()))
				break
			}
		}
	}
}

// TestExtraMonitorsFileOfTheDocs: the example definitions file the docs show is valid.
func TestExtraMonitorsFileOfTheDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "extra-monitors.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := monitor.Builtin().WithDefinitions(b); err != nil {
		t.Error(err)
	}
}

func TestExtraMonitorsFromEnv(t *testing.T) {
	c, err := ConfigFromEnv(envOf(map[string]string{"CALM_MONITORS": "hm,kpi-orders", "CALM_EXTRA_MONITORS": kpiDefinition}))
	if err != nil || len(c.Extra) != 1 || c.Validate() != nil {
		t.Fatalf("config %+v, %v, %v", c, err, c.Validate())
	}
	_, err = ConfigFromEnv(envOf(map[string]string{"CALM_EXTRA_MONITORS": `[{"id":"x","measures":[{"name":"v","method":"MEDIAN"}]}]`}))
	if err == nil || !strings.Contains(err.Error(), `CALM_EXTRA_MONITORS: extraMonitors[0].measures[0].method: "MEDIAN" is not one of AVG, MIN, MAX, SUM, PERCENT`) {
		t.Errorf("bad definition: %v", err)
	}
	c = DefaultConfig()
	c.Monitors = []string{"kpi-orders"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `unknown monitor "kpi-orders"`) {
		t.Errorf("an extra monitor without its definition: %v", err)
	}
}

// The connector secret's extraMonitors field adds monitors to the run (Runner.For); a bad one
// fails the run naming the field, and nothing is collected.
func TestSecretsMonitorsAreCollected(t *testing.T) {
	e := newEnv(t, "kpi-orders")
	raw := e.sim.ConnectorJSON()
	conn := withExtraMonitors(raw, kpiDefinition)
	settings, _, err := calm.ParseSettings(conn)
	if err != nil {
		t.Fatal(err)
	}
	client, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r := (&Runner{Config: e.r.Config, Store: e.store, Sinks: e.r.Sinks, Owner: "test-run", Now: e.clock.Now, Logger: quiet}).For(client)
	s := r.Run(context.Background(), Request{})
	mustOK(t, s)
	if len(s.Monitors) != 1 || s.Monitors[0].Monitor != "kpi-orders" || s.Monitors[0].Points == 0 {
		t.Errorf("monitors %+v", s.Monitors)
	}
	if len(e.r.Config.Extra) != 0 {
		t.Error("the secret's monitors leaked into the configuration the runner was given")
	}

	bad := withExtraMonitors(raw, `[{"id":"kpi-orders"}]`)
	settings, _, _ = calm.ParseSettings(bad)
	client, _ = calm.New(settings, calm.Options{HTTPClient: &http.Client{}, Logger: quiet})
	r = (&Runner{Config: e.r.Config, Store: e.store, Sinks: e.r.Sinks, Owner: "test-run", Now: e.clock.Now, Logger: quiet}).For(client)
	if s := r.Run(context.Background(), Request{}); s.OK || !strings.Contains(s.Error, "connector secret: extraMonitors[0].provider") {
		t.Errorf("a bad definition in the secret: ok %v, error %q", s.OK, s.Error)
	}
}

// withExtraMonitors is a connector secret (a JSON object) with an extraMonitors field added.
func withExtraMonitors(secret []byte, defs string) []byte {
	out := bytes.TrimRight(bytes.TrimSpace(secret), "}")
	return append(slices.Clip(out), []byte(`,"extraMonitors":`+defs+`}`)...)
}
