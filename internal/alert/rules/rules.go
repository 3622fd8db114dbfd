// Package rules is the alert rule, its parser and the event names, standard library only: the collect function
// (internal/alert) and the stack (infra/cdk, at synth) apply the same rule (docs/alerts.md).
package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Source is the "source" of every event the collector puts on EventBridge (docs/alerts.md).
const Source = "calm-collector"

// Detail types of the events.
const (
	TypeStatusOpened  = "Cloud ALM Status Event Opened"
	TypeStatusChanged = "Cloud ALM Status Event Changed"
	TypeStatusClosed  = "Cloud ALM Status Event Closed"
	TypeRuleFiring    = "Cloud ALM Alert Firing"
	TypeRuleCleared   = "Cloud ALM Alert Cleared"
)

// Rule fires while the latest value of a series (one metric of one monitor, one combination of
// attributes) compares true with the threshold, and clears when it compares false. Series without
// a point in a window keep their state: no data is not a clearing.
type Rule struct {
	Name    string            `json:"name"`
	Monitor string            `json:"monitor"`
	Metric  string            `json:"metric"`
	Match   map[string]string `json:"match,omitempty"` // attribute = exact value; all must hold
	Op      string            `json:"op"`              // >, >=, <, <=, ==, !=
	// Threshold is a pointer only to tell "missing" from 0 while parsing.
	Threshold *float64 `json:"threshold"`
}

// SpanMonitors are the monitors whose records are spans (one per request, each its own series),
// not data points: a rule on one could never judge a series twice. internal/monitor's table
// is the owner of the fact; internal/alert's tests hold this list to its traces monitors.
var SpanMonitors = []string{"traces"}

// ops are the comparisons a rule may use.
var ops = map[string]func(v, t float64) bool{
	">": func(v, t float64) bool { return v > t }, ">=": func(v, t float64) bool { return v >= t },
	"<": func(v, t float64) bool { return v < t }, "<=": func(v, t float64) bool { return v <= t },
	"==": func(v, t float64) bool { return v == t }, "!=": func(v, t float64) bool { return v != t },
}

// Holds reports whether v breaches the rule.
func (r Rule) Holds(v float64) bool { return ops[r.Op](v, *r.Threshold) }

// Matches reports whether the attributes a record's lookup finds match the rule's.
func (r Rule) Matches(lookup func(key string) (string, bool)) bool {
	for k, want := range r.Match {
		if got, ok := lookup(k); !ok || got != want {
			return false
		}
	}
	return true
}

// Parse reads a JSON array of rules (CALM_ALERT_RULES, the stack's alertRules context) and
// reports every problem at once, each naming the rule and the field.
func Parse(text string) ([]Rule, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	var rules []Rule
	if err := dec.Decode(&rules); err != nil {
		return nil, fmt.Errorf(`alert rules: not a JSON array of rules like [{"name":"critical S4H","monitor":"hm","metric":"criticalStatus","match":{"serviceName":"S4H.200"},"op":">","threshold":0}]: %v`, err)
	}
	var errs []error
	seen := map[string]bool{}
	for i, r := range rules {
		where := fmt.Sprintf("alert rule %d", i+1)
		if r.Name != "" {
			where += fmt.Sprintf(" %q", r.Name)
		}
		switch {
		case strings.TrimSpace(r.Name) == "":
			errs = append(errs, fmt.Errorf("%s: name is empty; give each rule a unique name", where))
		case strings.ContainsFunc(r.Name, func(c rune) bool { return unicode.IsControl(c) || c == '#' || c == '/' || c == '\\' }):
			errs = append(errs, fmt.Errorf("%s: name contains '#', a slash or a control character", where))
		case seen[r.Name]:
			errs = append(errs, fmt.Errorf("%s: name is used twice; rule names must be unique (they key the alert state)", where))
		}
		seen[r.Name] = true
		if strings.TrimSpace(r.Monitor) == "" || strings.ContainsAny(r.Monitor, "#/\\") {
			errs = append(errs, fmt.Errorf("%s: monitor %q: give a monitor id like hm, rum, jam, exm", where, r.Monitor))
		}
		if slices.Contains(SpanMonitors, r.Monitor) {
			errs = append(errs, fmt.Errorf("%s: monitor %q collects spans, one per request, not series a rule can judge; "+
				"alert on the rum monitor's responseTime or okStatus instead", where, r.Monitor))
		}
		if strings.TrimSpace(r.Metric) == "" {
			errs = append(errs, fmt.Errorf("%s: metric is empty; give a metric name like criticalStatus", where))
		}
		if _, ok := ops[r.Op]; !ok {
			errs = append(errs, fmt.Errorf("%s: op %q: use one of >, >=, <, <=, ==, !=", where, r.Op))
		}
		if r.Threshold == nil {
			errs = append(errs, fmt.Errorf("%s: threshold is missing; give a number", where))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}
