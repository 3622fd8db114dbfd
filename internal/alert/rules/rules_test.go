package rules

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	rules, err := Parse(`[{"name":"critical S4H","monitor":"hm","metric":"criticalStatus","match":{"serviceName":"S4H.200"},"op":">","threshold":0},
		{"name":"slow","monitor":"rum","metric":"responseTime","op":">=","threshold":2000}]`)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Match["serviceName"] != "S4H.200" || *rules[1].Threshold != 2000 {
		t.Fatalf("rules = %+v", rules)
	}
	if !rules[0].Holds(1) || rules[0].Holds(0) || !rules[1].Holds(2000) || rules[1].Holds(1999.9) {
		t.Error("comparisons are wrong")
	}
	lookup := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if !rules[0].Matches(lookup(map[string]string{"serviceName": "S4H.200", "x": "y"})) || rules[0].Matches(lookup(map[string]string{"serviceName": "S4H.300"})) || rules[0].Matches(lookup(nil)) {
		t.Error("attribute match is wrong")
	}
	if r, err := Parse("  "); err != nil || r != nil {
		t.Errorf("empty = %v, %v", r, err)
	}
}

// Every problem is named at once, each with its rule and field.
func TestParseRulesReportsEveryProblem(t *testing.T) {
	_, err := Parse(`[{"name":"","monitor":"","metric":"","op":"=>"},{"name":"a","monitor":"hm","metric":"m","op":">","threshold":1},{"name":"a","monitor":"hm","metric":"m","op":">","threshold":1}]`)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`alert rule 1: name is empty; give each rule a unique name`,
		`alert rule 1: monitor "": give a monitor id like hm, rum, jam, exm`,
		`alert rule 1: metric is empty; give a metric name like criticalStatus`,
		`alert rule 1: op "=>": use one of >, >=, <, <=, ==, !=`,
		`alert rule 1: threshold is missing; give a number`,
		`alert rule 3 "a": name is used twice; rule names must be unique (they key the alert state)`,
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("error =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if _, err := Parse(`[{"name":"slow","monitor":"traces","metric":"GET /ui","op":">","threshold":2000}]`); err == nil ||
		err.Error() != `alert rule 1 "slow": monitor "traces" collects spans, one per request, not series a rule can judge; alert on the rum monitor's responseTime or okStatus instead` {
		t.Errorf("a rule on spans = %v", err)
	}
	if _, err := Parse(`[{"name":"a","monitor":"hm","metric":"m","op":">","threshold":1,"treshold":2}]`); err == nil || !strings.Contains(err.Error(), `unknown field "treshold"`) {
		t.Errorf("misspelt field = %v", err)
	}
}
