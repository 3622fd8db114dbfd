package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

const testRules = `[{"name":"critical S4H","monitor":"hm","metric":"criticalStatus","match":{"serviceName":"S4H.200"},"op":">","threshold":0}]`

func TestAlertsConfig(t *testing.T) {
	get := func(m map[string]any) func(string) any {
		return func(k string) any {
			if k == keyBootstrapDir {
				return bootstrapDir()
			}
			return m[k]
		}
	}
	c, err := ConfigFromContext(get(nil))
	if err != nil || !c.Alerts.Enabled || c.Alerts.Rules != "" || c.Alerts.ToTopic {
		t.Errorf("defaults: %+v, %v; want alerts on, no rules, not to the topic", c.Alerts, err)
	}
	c, err = ConfigFromContext(get(map[string]any{keyAlertRules: []any{map[string]any{"name": "a", "monitor": "hm", "metric": "m", "op": ">", "threshold": 1.0}}, keyAlertsToTopic: "true"}))
	if err != nil || c.Alerts.Rules != `[{"metric":"m","monitor":"hm","name":"a","op":"\u003e","threshold":1}]` || !c.Alerts.ToTopic {
		t.Errorf("typed rules: %+v, %v", c.Alerts, err)
	}
	_, err = ConfigFromContext(get(map[string]any{keyAlertRules: `[{"name":"a","monitor":"hm","metric":"m","op":"=>"}]`}))
	want := `context "alertRules": alert rule 1 "a": op "=>": use one of >, >=, <, <=, ==, !=` + "\n" +
		`context "alertRules": alert rule 1 "a": threshold is missing; give a number`
	if err == nil || err.Error() != want {
		t.Errorf("bad rules: %v\nwant %s", err, want)
	}
	_, err = ConfigFromContext(get(map[string]any{keyAlerts: false, keyAlertRules: testRules}))
	if err == nil || !strings.Contains(err.Error(), `context "alerts": alerts are off, but alertRules or alertsToTopic are set`) {
		t.Errorf("rules without alerts: %v", err)
	}
}

// collect may put events only on the stack's bus, and learns the bus and the rules from its
// environment; by default nothing else subscribes.
func TestAlertsBusAndLeastPrivilege(t *testing.T) {
	s := defaults(t)
	bus := s.logicalID(t, "AWS::Events::EventBus", "AlertsBus")
	check(t, "bus", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Events::EventBus"), obj(map[string]any{"Name": "CalmCollector"}))
	})
	check(t, "collect environment", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"CALM_EVENT_BUS": ref(bus)})},
		}))
	})
	var puts []any
	for _, st := range s.policyStatements(t, "CollectRole") {
		if strings.Contains(stringify(st), "events:") {
			puts = append(puts, st)
		}
	}
	if len(puts) != 1 {
		t.Fatalf("collect has %d statements on events, want 1: %v", len(puts), puts)
	}
	equalJSON(t, "collect's events statement", puts[0], map[string]any{
		"Effect": "Allow", "Action": "events:PutEvents", "Resource": getAtt(bus, "Arn"),
	})
	if n := len(s.resources("AWS::Events::Rule")); n != 0 {
		t.Errorf("%d event rules by default, want none", n)
	}
}

func TestAlertsToTopicAndRules(t *testing.T) {
	s := synth(t, map[string]any{keyAlertRules: testRules, keyAlertsToTopic: true})
	nagClean(t, s)
	bus := s.logicalID(t, "AWS::Events::EventBus", "AlertsBus")
	check(t, "rules in collect's environment", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj(map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"CALM_ALERT_RULES": testRules})},
		}))
	})
	check(t, "rule to the alarm topic", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), obj(map[string]any{
			"EventBusName": ref(bus),
			"EventPattern": map[string]any{"source": []any{"calm-collector"}},
			"Targets":      assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"Arn": ref(s.logicalID(t, "AWS::SNS::Topic", "Alarms"))})}),
		}))
	})
	check(t, "the topic's key lets EventBridge publish", func() {
		s.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), obj(map[string]any{
			"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Sid": "EventBridgePublish", "Principal": map[string]any{"Service": "events.amazonaws.com"}}),
			})}),
		}))
	})
}

func stringify(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
