package main

import (
	"strings"
	"testing"
)

// The stack's CALM_EVENT_BUS and CALM_ALERT_RULES are read at cold start; bad rules are named
// with the other problems.
func TestEnvFromReadsAlerts(t *testing.T) {
	base := map[string]string{"CALM_SECRET_ID": "arn:x", "CALM_STATE_TABLE": "calm-state", "CALM_EVENT_BUS": "CalmCollector",
		"CALM_ALERT_RULES": `[{"name":"critical S4H","monitor":"hm","metric":"criticalStatus","match":{"serviceName":"S4H.200"},"op":">","threshold":0}]`}
	s, err := envFrom(func(k string) string { return base[k] })
	if err != nil || s.alerts.Bus != "CalmCollector" || len(s.alerts.Rules) != 1 || s.alerts.Rules[0].Match["serviceName"] != "S4H.200" {
		t.Fatalf("alerts = %+v, %v", s.alerts, err)
	}
	base["CALM_ALERT_RULES"] = `[{"name":"x"}]`
	base["CALM_STATE_TABLE"] = ""
	_, err = envFrom(func(k string) string { return base[k] })
	for _, want := range []string{"CALM_STATE_TABLE: missing", `CALM_ALERT_RULES: alert rule 1 "x": monitor ""`, `alert rule 1 "x": threshold is missing`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("envFrom error = %v\nwant it to contain %s", err, want)
		}
	}
}
