package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// cannedClient answers every metrics query with one canned OTLP page and remembers the queries.
type cannedClient struct {
	payload  pmetric.Metrics
	services []calm.Service
	events   []calm.StatusEvent
	queries  []calm.MetricsQuery
	eventQs  []calm.EventsQuery
	analytic []calm.AnalyticsPoint
	aQueries []calm.AnalyticsQuery
	err      error
}

func (c *cannedClient) AnalyticsData(_ context.Context, q calm.AnalyticsQuery) ([]calm.AnalyticsPoint, error) {
	c.aQueries = append(c.aQueries, q)
	return c.analytic, c.err
}

func (c *cannedClient) Metrics(_ context.Context, q calm.MetricsQuery) iter.Seq2[calm.MetricsPage, error] {
	c.queries = append(c.queries, q)
	return func(yield func(calm.MetricsPage, error) bool) {
		if c.err != nil {
			yield(calm.MetricsPage{}, c.err)
			return
		}
		yield(calm.MetricsPage{Metrics: c.payload, Points: recordCount(c.payload)}, nil)
	}
}

func (c *cannedClient) Services(context.Context, string) ([]calm.Service, error) {
	return c.services, nil
}

func (c *cannedClient) StatusEvents(_ context.Context, q calm.EventsQuery) iter.Seq2[calm.StatusEvent, error] {
	c.eventQs = append(c.eventQs, q)
	return func(yield func(calm.StatusEvent, error) bool) {
		for _, e := range c.events {
			if !yield(e, nil) {
				return
			}
		}
	}
}

func loadOTLP(t *testing.T, path string) pmetric.Metrics {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return md
}

func loadEvents(t *testing.T) []calm.StatusEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/status.events.json")
	if err != nil {
		t.Fatal(err)
	}
	var raws []map[string]string
	if err := json.Unmarshal(b, &raws); err != nil {
		t.Fatal(err)
	}
	var out []calm.StatusEvent
	for _, f := range raws {
		out = append(out, calm.StatusEvent{EventID: f["eventId"], EventType: f["eventType"], EventName: f["eventName"],
			EventDescription: f["eventDescription"], EventStatus: f["eventStatus"], ServiceName: f["serviceName"],
			ServiceDescription: f["serviceDescription"], EventStartTime: f["eventStartTime"], EventEndTime: f["eventEndTime"], Fields: f})
	}
	return out
}

func golden(t *testing.T, path string, recs []record.Record) {
	t.Helper()
	var got []byte
	for i := range recs {
		got = record.AppendJSON(got, &recs[i])
		got = append(got, '\n')
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("records differ from %s (run go test -update after checking):\ngot:\n%s", path, got)
	}
}

func TestMonitorMappingGolden(t *testing.T) {
	q := Query{Tenant: "prod-eu10", From: ts("2025-11-25T10:00:00Z"), To: ts("2025-11-25T11:00:00Z"), Resolution: "5Mi"}
	for _, m := range Monitors() {
		in := m.Info()
		if in.API == monitor.Logs || in.API == monitor.Analytics || in.API == monitor.Traces {
			continue // not OTLP metrics: logs_test.go, analytics_test.go, traces_test.go
		}
		t.Run(in.ID, func(t *testing.T) {
			c := &cannedClient{}
			if in.API == monitor.Events {
				c.events = loadEvents(t)
			} else {
				c.payload = loadOTLP(t, filepath.Join("testdata", in.ID+".otlp.json"))
				c.services = []calm.Service{{ID: "svc-1", Name: "S4H.100"}}
			}
			var recs []record.Record
			if err := m.Fetch(context.Background(), c, q, func(r record.Record) { recs = append(recs, r) }); err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				t.Fatal("no records")
			}
			golden(t, filepath.Join("testdata", in.ID+".golden.ndjson"), recs)
			if in.API == monitor.Events {
				return
			}
			if len(c.queries) != 1 {
				t.Fatalf("queries = %d, want 1", len(c.queries))
			}
			mq := c.queries[0]
			if mq.Provider != in.ID || !mq.From.Equal(q.From) || !mq.To.Equal(q.To) || mq.Resolution != "5Mi" {
				t.Errorf("query = %+v", mq)
			}
			// Every attribute of the canned payload is a dimension the monitor asked for.
			for _, r := range recs {
				for k := range r.Attrs() {
					if !slices.Contains(mq.Dimensions, k) {
						t.Errorf("attribute %q is not among the asked dimensions %v", k, mq.Dimensions)
					}
				}
				if !strings.HasPrefix(r.ID, "") || r.Tenant() != "prod-eu10" || r.Monitor() != in.ID || r.Kind() != record.KindMetric {
					t.Errorf("record %+v", r)
				}
			}
			// The query asks for exactly the table's dimensions and measures, and every measure
			// the canned payload carries is one of them.
			dims, mets := in.Columns()
			if !slices.Equal(mq.Dimensions, dims) || !slices.Equal(mq.Metrics, mets) {
				t.Errorf("query asks dimensions %v metrics %v, want the table's %v %v", mq.Dimensions, mq.Metrics, dims, mets)
			}
			for _, r := range recs {
				if !slices.Contains(in.Measures, r.Name()) {
					t.Errorf("record %s: %q is not one of the monitor's measures %v", r.ID, r.Name(), in.Measures)
				}
			}
		})
	}
}

func TestRUMQueriesAtMostFiveServicesPerRequest(t *testing.T) {
	var svcs []calm.Service
	for i := range 12 {
		svcs = append(svcs, calm.Service{ID: fmt.Sprintf("svc-%02d", i), Name: fmt.Sprintf("S%d", i)})
	}
	c := &cannedClient{payload: loadOTLP(t, "testdata/rum.otlp.json"), services: svcs}
	q := Query{Tenant: "t", From: ts("2025-11-25T10:00:00Z"), To: ts("2025-11-25T11:00:00Z"), Resolution: "5Mi"}
	n := 0
	if err := Lookup("rum").Fetch(context.Background(), c, q, func(record.Record) { n++ }); err != nil {
		t.Fatal(err)
	}
	if len(c.queries) != 3 {
		t.Fatalf("queries = %d, want 3 (12 services in batches of 5)", len(c.queries))
	}
	var asked []string
	for _, mq := range c.queries {
		if len(mq.ServiceIDs) > 5 || len(mq.ServiceIDs) == 0 {
			t.Errorf("query asks for %d services", len(mq.ServiceIDs))
		}
		if !mq.From.Equal(q.From) || !mq.To.Equal(q.To) {
			t.Errorf("batch query has range %s–%s", mq.From, mq.To)
		}
		asked = append(asked, mq.ServiceIDs...)
	}
	if len(asked) != 12 {
		t.Errorf("asked for %v, want every service once", asked)
	}
	if n != 3*recordCount(c.payload) {
		t.Errorf("records = %d, want the points of all 3 batches (%d)", n, 3*recordCount(c.payload))
	}
}

func TestStatusEventTimesAndIDs(t *testing.T) {
	evs := loadEvents(t)
	want := []string{"2025-11-25T09:40:00Z", "2025-11-25T12:00:00Z", "2025-11-25T09:00:00Z"}
	for i, ev := range evs {
		r := eventRecord("t", "status", ev)
		if got := r.Time.Format("2006-01-02T15:04:05Z07:00"); got != want[i] {
			t.Errorf("event %s time = %s, want %s", ev.EventID, got, want[i])
		}
		changed := ev
		changed.Fields = map[string]string{}
		for k, v := range ev.Fields {
			changed.Fields[k] = v
		}
		changed.Fields["eventStatus"] = "Resolved-" + ev.EventStatus
		if eventRecord("t", "status", changed).ID == r.ID {
			t.Errorf("event %s: a changed status keeps the id", ev.EventID)
		}
		if eventRecord("t", "status", ev).ID != r.ID {
			t.Errorf("event %s: the id is not stable", ev.EventID)
		}
	}
}

func TestSelect(t *testing.T) {
	grant := scopeSet{"calm-api.metrics.read": true, "calm-api.hm.read": true, "calm-api.jam.read": true, "calm-api.bsm.read": true}
	sel, skipped, err := Select([]string{"auto"}, grant)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range sel {
		ids = append(ids, m.Info().ID)
	}
	// every monitor whose scopes are granted: status events (calm-api.bsm.read is published)
	// and the logs of the job and status-event providers included.
	if want := "hm,rum,jam,bsm,status,logs-bsm,logs-jam-def,logs-jam-run,logs-jam-run-step"; strings.Join(ids, ",") != want {
		t.Errorf("auto selected %v, want %s", ids, want)
	}
	if !slices.Contains(skipped, "exm: the token lacks scope calm-api.exm.read") ||
		!slices.Contains(skipped, "sum: unconfirmed scope calm-api.sum.read; name the monitor to collect it") {
		t.Errorf("skipped = %q", skipped)
	}
	sel, _, err = Select([]string{"status", "cpi", "status"}, scopeSet{})
	if err != nil || len(sel) != 2 {
		t.Errorf("named = %v, %v; want status and cpi", sel, err)
	}
	sel, _, err = Select([]string{"all"}, scopeSet{})
	if err != nil || len(sel) != len(MonitorIDs()) {
		t.Errorf("all = %d monitors, %v; want every one of %d", len(sel), err, len(MonitorIDs()))
	}
	_, _, err = Select([]string{"hm", "nope", "x"}, grant)
	if err == nil || err.Error() != `monitors: unknown "nope", "x"; known: `+strings.Join(MonitorIDs(), ",") {
		t.Errorf("unknown = %v", err)
	}
}

type scopeSet map[string]bool

func (s scopeSet) HasScope(suffix string) bool { return s[suffix] }

// TestEveryTableMonitorIsCollected: each row of the monitor table has a collector of its API,
// in table order, and Lookup finds it by id.
func TestEveryTableMonitorIsCollected(t *testing.T) {
	ms := Monitors()
	if len(ms) != len(monitor.IDs()) {
		t.Fatalf("%d monitors, the table has %d", len(ms), len(monitor.IDs()))
	}
	for i, id := range monitor.IDs() {
		m := ms[i]
		if m.Info().ID != id || Lookup(id) == nil || Lookup(id).Info().ID != id {
			t.Errorf("monitor %d is %q, want %q found by Lookup", i, m.Info().ID, id)
		}
		var want bool
		switch m.(type) {
		case status:
			want = m.Info().API == monitor.Events
		case logs: // the logs API, and the traces API, which it reads alike (traces.go)
			want = m.Info().API == monitor.Logs || m.Info().API == monitor.Traces
		case batched:
			want = m.Info().API == monitor.Metrics && m.Info().MaxServices > 0
		case metrics:
			want = m.Info().API == monitor.Metrics && m.Info().MaxServices == 0
		case analytics:
			want = m.Info().API == monitor.Analytics
		}
		if !want {
			t.Errorf("%s: collected by a %T, which does not read its API %s", id, m, m.Info().API)
		}
	}
}

// Monitors returns the built-in monitors, in table order.
func Monitors() []Monitor { return slices.Clone(monitors) }

// Select is SelectFrom the built-in table.
func Select(names []string, scopes Scopes) (selected []Monitor, skipped []string, err error) {
	return SelectFrom(monitor.Builtin(), names, scopes)
}

// recordCount is how many records record.FromMetrics makes of md.
func recordCount(md pmetric.Metrics) int {
	n := 0
	_ = record.FromMetrics("", "", md, func(record.Record) error { n++; return nil })
	return n
}
