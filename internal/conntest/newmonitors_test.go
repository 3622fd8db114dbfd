package conntest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// Monitors given as data are probed like the built-in analytics monitors; without their scope
// the scopes check names the exact authority line to add.
func TestRunProbesMonitorsGivenAsData(t *testing.T) {
	extra, err := monitor.Builtin().ParseDefinitions([]byte(`[{"id":"kpi-orders","provider":"KPI_HISTORY_TOTALS",
	 "scope":"calm-api.bm.read","dimensions":["kpiId","serviceId"],"measures":[{"name":"kpiValue","method":"AVG"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	s := sim.StartTest(t, sim.Config{})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"bpm", "kpi-orders"}, Extra: extra})
	wantStatuses(t, r, "settings=pass reach=pass token=pass scopes=pass api=pass api-shape=skip monitor:bpm=pass monitor:kpi-orders=pass quota=pass")
	if c, _ := r.Check("monitor:kpi-orders"); !strings.Contains(c.Detail, "values of KPI_HISTORY_TOTALS") {
		t.Errorf("monitor:kpi-orders = %+v", c)
	}
	// Without the defaults named, the table's defaults include the monitors given as data.
	r = Run(context.Background(), s.ConnectorJSON(), Options{Extra: extra})
	if _, ok := r.Check("monitor:kpi-orders"); !ok {
		t.Errorf("the default probes leave out the monitor given as data: %s", statuses(r))
	}

	scopes := slices.DeleteFunc(slices.Clone(sim.AllScopes), func(sc string) bool { return sc == sim.ScopeBM })
	s = sim.StartTest(t, sim.Config{Scopes: scopes})
	r = Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"kpi-orders"}, Extra: extra})
	sc, _ := r.Check("scopes")
	if sc.Status != Fail || !slices.Equal(sc.Missing, []string{"$XSMASTERAPPNAME.calm-api.bm.read"}) {
		t.Errorf("scopes without calm-api.bm.read = %+v", sc)
	}
	if c, _ := r.Check("monitor:kpi-orders"); c.Status != Fail || !slices.Equal(c.Missing, []string{"$XSMASTERAPPNAME.calm-api.bm.read"}) {
		t.Errorf("monitor:kpi-orders without its scope = %+v", c)
	}
}

// Every logs provider is probed; when none of them holds a record over the last 24 h, the last
// logs probe warns.
func TestRunLogsProvidersWarnWhenAllAreEmpty(t *testing.T) {
	var logs []string
	for _, m := range monitor.All() {
		if m.API == monitor.Logs {
			logs = append(logs, m.ID)
		}
	}
	b, err := sim.ParseBehaviours("logs-exm-im-only")
	if err != nil {
		t.Fatal(err)
	}
	s := sim.StartTest(t, sim.Config{Behaviours: b})
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: logs})
	for _, id := range logs {
		c, _ := r.Check("monitor:" + id)
		if c.Status != Pass {
			t.Errorf("%s = %+v; want pass (exm.im holds records)", id, c)
		}
	}
	if c, _ := r.Check("monitor:logs"); !strings.Contains(c.Detail, "provider exm.im: ") || strings.Contains(c.Detail, "no log records") {
		t.Errorf("monitor:logs = %+v", c)
	}
	if c, _ := r.Check("monitor:logs-jam-run"); !strings.Contains(c.Detail, "provider jam.run: no log records of") {
		t.Errorf("monitor:logs-jam-run = %+v", c)
	}
	// Only the empty providers enabled: the last one warns, naming them all.
	r = Run(context.Background(), s.ConnectorJSON(), Options{Monitors: logs[1:]})
	last, _ := r.Check("monitor:" + logs[len(logs)-1])
	if last.Status != Warn || !strings.Contains(last.Detail, "no log records under any of the probed providers (exm.jam, bsm, im, iep, jam.def, jam.run, jam.run_step)") || last.Hint == "" {
		t.Errorf("last logs probe = %+v", last)
	}
	if !r.OK {
		t.Error("a warning must not fail the report")
	}
}

// The connector secret's extraMonitors field adds monitors the test probes; a bad one fails the
// settings check naming the field.
func TestRunTakesTheSecretsMonitors(t *testing.T) {
	s := sim.StartTest(t, sim.Config{})
	withDefs := func(defs string) []byte {
		raw := s.ConnectorJSON()
		return append(raw[:len(raw)-1], []byte(`,"extraMonitors":`+defs+`}`)...)
	}
	good := `[{"id":"kpi-orders","provider":"KPI_HISTORY_TOTALS","scope":"calm-api.bm.read","dimensions":["kpiId"],"measures":[{"name":"kpiValue"}]}]`
	r := Run(context.Background(), withDefs(good), Options{})
	if c, ok := r.Check("monitor:kpi-orders"); !ok || c.Status != Pass {
		t.Errorf("monitor:kpi-orders = %+v (%v): %s", c, ok, statuses(r))
	}
	if c, _ := r.Check("settings"); c.Status != Pass {
		t.Errorf("settings = %+v", c)
	}
	r = Run(context.Background(), withDefs(strings.Replace(good, `"kpiValue"}`, `"kpiValue","method":"MEDIAN"}`, 1)), Options{})
	if c, _ := r.Check("settings"); c.Status != Fail || !strings.Contains(c.Detail, `extraMonitors[0].measures[0].method: "MEDIAN" is not one of AVG, MIN, MAX, SUM, PERCENT`) {
		t.Errorf("settings with a bad definition = %+v", c)
	}
}
