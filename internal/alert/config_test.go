package alert

import (
	"slices"
	"strings"
	"testing"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
	"github.com/calm-collector/calm-collector/internal/monitor"
)

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := ConfigFromEnv(env(map[string]string{"CALM_EVENT_BUS": "calm", "CALM_ALERT_RULES": `[{"name":"a","monitor":"hm","metric":"m","op":">","threshold":1}]`}))
	if err != nil || c.Bus != "calm" || len(c.Rules) != 1 {
		t.Fatalf("config = %+v, %v", c, err)
	}
	if c, err := ConfigFromEnv(env(nil)); err != nil || c.Bus != "" || c.Rules != nil {
		t.Errorf("empty environment = %+v, %v; want no events", c, err)
	}
	_, err = ConfigFromEnv(env(map[string]string{"CALM_EVENT_BUS": "a b", "CALM_ALERT_RULES": `[{"name":"a","monitor":"hm","metric":"m","op":"~","threshold":1}]`}))
	want := "CALM_EVENT_BUS: \"a b\" is not an event bus name or ARN\nCALM_ALERT_RULES: alert rule 1 \"a\": op \"~\": use one of >, >=, <, <=, ==, !="
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	_, err = ConfigFromEnv(env(map[string]string{"CALM_ALERT_RULES": `[{"name":"a","monitor":"hm","metric":"m","op":">","threshold":1}]`}))
	if err == nil || !strings.Contains(err.Error(), "CALM_EVENT_BUS is empty") {
		t.Errorf("rules without a bus = %v", err)
	}
}

// The rules refuse exactly the monitors of the table whose records are spans (the traces API):
// the rule package, standard library only, keeps its own list; this is where it meets the table.
func TestSpanMonitorsAreTheTablesTracesMonitors(t *testing.T) {
	var want []string
	for _, m := range monitor.All() {
		if m.API == monitor.Traces {
			want = append(want, m.ID)
		}
	}
	if len(want) == 0 || !slices.Equal(rules.SpanMonitors, want) {
		t.Errorf("rules.SpanMonitors = %v, the table's traces monitors = %v", rules.SpanMonitors, want)
	}
}
