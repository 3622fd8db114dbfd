package monitor

import (
	"strings"
	"testing"
)

const bpmDefinition = `[{"id":"kpi-orders","title":"Order KPIs","provider":"KPI_HISTORY_TOTALS","scope":"calm-api.bm.read",
 "dimensions":["kpiId","kpiName","serviceId","serviceName"],"measures":[{"name":"kpiValue","method":"AVG"}],
 "filters":[{"key":"kpiId","values":["KPSD000103"]}]}]`

func TestParseDefinitions(t *testing.T) {
	ms, err := Builtin().ParseDefinitions([]byte(bpmDefinition))
	if err != nil || len(ms) != 1 {
		t.Fatalf("ParseDefinitions = %v, %v; want one monitor", ms, err)
	}
	m := ms[0]
	if m.ID != "kpi-orders" || m.API != Analytics || m.DataProvider != "KPI_HISTORY_TOTALS" || !m.Extra ||
		m.Methods["kpiValue"] != "AVG" || len(m.Filters) != 1 || m.Filters[0].Values[0] != "KPSD000103" || !m.ScopeConfirmed {
		t.Errorf("monitor = %+v", m)
	}
	tab, err := Builtin().WithDefinitions([]byte(bpmDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tab.Lookup("kpi-orders"); !ok || len(tab.IDs()) != len(IDs())+1 {
		t.Errorf("the extended table lacks kpi-orders: %v", tab.IDs())
	}
	if _, ok := Lookup("kpi-orders"); ok {
		t.Error("extending a table changed the built-in one")
	}
	if ps := tab.SettingProblems([]string{"hm", "kpi-orders"}); len(ps) != 0 {
		t.Errorf("SettingProblems of the extended table = %v", ps)
	}
	if ms, err := Builtin().ParseDefinitions([]byte(" \n")); ms != nil || err != nil {
		t.Errorf("blank definitions = %v, %v; want none", ms, err)
	}
}

// TestDefinitionProblemsNameTheField: every problem is reported, each with its path.
func TestDefinitionProblemsNameTheField(t *testing.T) {
	in := `[{"id":"ok-one","provider":"P","scope":"calm-api.bm.read","dimensions":["a"],"measures":[{"name":"m"}]},
 {"id":"hm","provider":"P","scope":"calm-api.bm.read","dimensions":["a"],"measures":[{"name":"m"}]},
 {"id":"Bad Id","provider":"","scope":"bm.read","dimensions":[],"measures":[{"name":"v","method":"MEDIAN"}],"filters":[{"key":"k","values":[]}]},
 {"id":"x","provider":"P","scope":"calm-api.bm.read","dimensions":["a"],"measures":[{"name":"m"}],"colour":"red"},
 {"id":"ok-one","provider":"P","scope":"calm-api.bm.read","dimensions":["a"],"measures":[]}]`
	_, err := Builtin().ParseDefinitions([]byte(in))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`extraMonitors[1].id: "hm" is a built-in monitor`,
		`extraMonitors[2].id: "Bad Id": want lower-case letters`,
		`extraMonitors[2].provider: "": want the analytics provider's name`,
		`extraMonitors[2].scope: "bm.read": want the calm-api scope`,
		`extraMonitors[2].dimensions: empty`,
		`extraMonitors[2].measures[0].method: "MEDIAN" is not one of AVG, MIN, MAX, SUM, PERCENT`,
		`extraMonitors[2].filters[0].values: empty`,
		`extraMonitors[3]: json: unknown field "colour"`,
		`extraMonitors[4].measures: empty`,
		`extraMonitors[4].id: "ok-one" is defined twice`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "extraMonitors[0]") {
		t.Errorf("the valid definition is reported:\n%v", err)
	}
	if _, err := Builtin().ParseDefinitions([]byte(`{"id":"x"}`)); err == nil || !strings.Contains(err.Error(), "extraMonitors: not a JSON list") {
		t.Errorf("an object instead of a list: %v", err)
	}
}

func TestWithRejectsATakenID(t *testing.T) {
	if _, err := Builtin().With(Monitor{ID: "logs"}); err == nil || !strings.Contains(err.Error(), `"logs" is already defined`) {
		t.Errorf("With(logs) = %v", err)
	}
}
