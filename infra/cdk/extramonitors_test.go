package main

import (
	"strings"
	"testing"
)

// Monitors given as data in the stack context (a JSON array in cdk.json, or a string with -c)
// are checked at synth by the functions' rule and written to both functions.
func TestExtraMonitorsContext(t *testing.T) {
	defs := []any{map[string]any{"id": "kpi-orders", "provider": "KPI_HISTORY_TOTALS", "scope": "calm-api.bm.read",
		"dimensions": []any{"kpiId", "serviceId"}, "measures": []any{map[string]any{"name": "kpiValue", "method": "AVG"}}}}
	for _, value := range []any{defs, `[{"id":"kpi-orders","provider":"KPI_HISTORY_TOTALS","scope":"calm-api.bm.read","dimensions":["kpiId"],"measures":[{"name":"kpiValue"}]}]`} {
		c, err := ConfigFromContext(ctxOf(map[string]any{keyExtraMonitors: value, keyMonitors: "hm,kpi-orders"}))
		if err != nil {
			t.Fatalf("%v: %v", value, err)
		}
		if env := connectorEnv(c); !strings.Contains(env["CALM_EXTRA_MONITORS"], `"id":"kpi-orders"`) {
			t.Errorf("CALM_EXTRA_MONITORS = %q", env["CALM_EXTRA_MONITORS"])
		}
	}
	_, err := ConfigFromContext(ctxOf(map[string]any{keyExtraMonitors: badExtraMonitor}))
	for _, want := range []string{`context "extraMonitors": extraMonitors[0].measures[0].method: "MEDIAN" is not one of AVG, MIN, MAX, SUM, PERCENT`,
		`context "extraMonitors": extraMonitors[0].dimensions: empty`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad definition: %v; want %q", err, want)
		}
	}
	if c, err := ConfigFromContext(ctxOf(nil)); err != nil || connectorEnv(c)["CALM_EXTRA_MONITORS"] != "" {
		t.Errorf("no extra monitors: %v, %q", err, connectorEnv(c)["CALM_EXTRA_MONITORS"])
	}
}
