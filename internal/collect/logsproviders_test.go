package collect

import (
	"context"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// logsMonitors are the ids of every logs monitor of the table.
func logsMonitors() []monitor.Monitor {
	var ms []monitor.Monitor
	for _, m := range monitor.All() {
		if m.API == monitor.Logs {
			ms = append(ms, m)
		}
	}
	return ms
}

// checkProviderLogs checks that the sink holds every log record the simulator serves under the
// monitor's provider in [from, to) exactly once, and nothing else of the monitor.
func checkProviderLogs(t *testing.T, e *env, m monitor.Monitor, from, to time.Time) {
	t.Helper()
	want := map[string]sim.LogRecord{}
	for _, l := range e.sim.ExpectedLogsOf(m.LogsProvider, e.sim.ServiceIDs(), from, to) {
		want[l.ExceptionID] = l
	}
	if len(want) == 0 {
		t.Fatalf("%s: the simulator holds no records under %s in the range; the test proves nothing", m.ID, m.LogsProvider)
	}
	got := map[string]bool{}
	for _, r := range records(e.sink, m.ID) {
		id := r.Attr("exceptionId")
		w, ok := want[id]
		switch {
		case got[id]:
			t.Errorf("%s: log record %s delivered twice", m.ID, id)
		case !ok:
			t.Errorf("%s: record %s %v is not a record of provider %s in range", m.ID, r.Time, r.AttrMap(), m.LogsProvider)
		case r.Kind() != record.KindLog || !r.Time.Equal(w.Time) || r.Body != w.Body || r.Attr("serviceId") != w.ServiceID:
			t.Errorf("%s: record %+v does not match the simulator's %+v", m.ID, r, w)
		}
		got[id] = true
	}
	if len(got) != len(want) {
		t.Errorf("%s: delivered %d log records, the simulator holds %d under %s", m.ID, len(got), len(want), m.LogsProvider)
	}
}

// TestEveryLogsProviderBackfillAndScheduledRunsAreExact: each log provider SAP lists is its own
// monitor with its own checkpoint; a 24 h backfill and two scheduled runs of all of them deliver
// every record of each provider once.
func TestEveryLogsProviderBackfillAndScheduledRunsAreExact(t *testing.T) {
	ms := logsMonitors()
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	e := newEnv(t, ids...)
	to := e.clock.Now().Truncate(time.Hour)
	s := e.r.Run(context.Background(), Request{Backfill: &Range{From: to.Add(-24 * time.Hour), To: to}})
	mustOK(t, s)
	for _, m := range ms {
		checkProviderLogs(t, e, m, to.Add(-24*time.Hour), to)
	}

	e = newEnv(t, ids...)
	s1 := e.r.Run(context.Background(), Request{})
	mustOK(t, s1)
	e.clock.Advance(23 * time.Minute)
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	for i, m := range ms {
		checkProviderLogs(t, e, m, s1.Monitors[i].From, s2.Monitors[i].To)
		cp, ok, err := e.store.Get(context.Background(), e.r.Tenant, m.ID)
		if err != nil || !ok || !cp.Next.Equal(s2.Monitors[i].To) || cp.LastError != "" {
			t.Errorf("%s: checkpoint %+v %v %v", m.ID, cp, ok, err)
		}
	}
}

// Against a tenant that serves logs under exm.im only, every logs monitor runs ok: exm.im
// delivers its records, the others deliver none (and say so by their zero counts).
func TestLogsExmImOnlyTenant(t *testing.T) {
	b, err := sim.ParseBehaviours("logs-exm-im-only")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range logsMonitors() {
		ids = append(ids, m.ID)
	}
	e := newEnvWith(t, sim.Config{Behaviours: b}, ids...)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	m, _ := monitor.Lookup("logs")
	checkProviderLogs(t, e, m, s.Monitors[0].From, s.Monitors[0].To)
	for _, ms := range s.Monitors[1:] {
		if ms.Points != 0 {
			t.Errorf("%s: %d records from an empty provider", ms.Monitor, ms.Points)
		}
	}
}
