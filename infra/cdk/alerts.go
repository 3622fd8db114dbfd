package main

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/calm-collector/calm-collector/internal/alert/rules"
)

// Context keys of the alerts (docs/alerts.md).
const (
	keyAlerts        = "alerts"
	keyAlertRules    = "alertRules"
	keyAlertsToTopic = "alertsToTopic"
)

// AlertsConfig is the alerts part of the stack configuration.
type AlertsConfig struct {
	Enabled bool   // create the event bus and let collect put events on it
	Rules   string // CALM_ALERT_RULES: a JSON array checked by rules.Parse ("" for none)
	ToTopic bool   // an EventBridge rule sends every event to the alarm topic
}

// alertsFromContext reads the alert keys; rules are checked with the collect function's parser.
func (p *parser) alertsFromContext(def AlertsConfig) AlertsConfig {
	c := AlertsConfig{Enabled: p.boolean(keyAlerts, def.Enabled), ToTopic: p.boolean(keyAlertsToTopic, def.ToTopic)}
	switch v := p.get(keyAlertRules).(type) {
	case nil:
	case string:
		c.Rules = strings.TrimSpace(v)
	case []any:
		if len(v) > 0 {
			raw, err := json.Marshal(v)
			if err != nil {
				p.fail(keyAlertRules, "not JSON: %v", err)
			}
			c.Rules = string(raw)
		}
	default:
		p.fail(keyAlertRules, "want a JSON array of rules, got %v", v)
	}
	if c.Rules == "[]" {
		c.Rules = ""
	}
	if _, err := rules.Parse(c.Rules); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			p.fail(keyAlertRules, "%s", line)
		}
	}
	if !c.Enabled && (c.Rules != "" || c.ToTopic) {
		p.fail(keyAlerts, "alerts are off, but alertRules or alertsToTopic are set; set alerts to true or remove them")
	}
	return c
}

// AlertsProps are what the alerts need from the stack.
type AlertsProps struct {
	Name    string // the bus is named after the stack
	Config  AlertsConfig
	Collect awslambda.Function
	Topic   awssns.Topic // the alarm topic (encrypted with its own key)
}

// Alerts is the bus the collect function puts status-event and alert-rule events on, and the
// optional rule that sends them to the alarm topic.
type Alerts struct {
	Bus  awsevents.EventBus
	Rule awsevents.Rule // nil unless ToTopic
}

// NewAlerts creates the bus, sets CALM_EVENT_BUS and CALM_ALERT_RULES on collect and lets collect
// put events on this bus only.
func NewAlerts(scope constructs.Construct, id string, p AlertsProps) *Alerts {
	c := constructs.NewConstruct(scope, jsii.String(id))
	a := &Alerts{Bus: awsevents.NewEventBus(c, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(p.Name),
		Description:  jsii.String("calm-collector: Cloud ALM status events and alert rules (source " + rules.Source + ", see docs/alerts.md)"),
	})}
	p.Collect.AddEnvironment(jsii.String("CALM_EVENT_BUS"), a.Bus.EventBusName(), nil)
	if p.Config.Rules != "" {
		p.Collect.AddEnvironment(jsii.String("CALM_ALERT_RULES"), jsii.String(p.Config.Rules), nil)
	}
	a.Bus.GrantPutEventsTo(p.Collect, nil) // events:PutEvents on this bus only

	if p.Config.ToTopic {
		a.Rule = awsevents.NewRule(c, jsii.String("ToAlarmTopic"), &awsevents.RuleProps{
			Description:  jsii.String("calm-collector: every status event and alert to the alarm topic"),
			EventBus:     a.Bus,
			EventPattern: &awsevents.EventPattern{Source: jsii.Strings(rules.Source)},
			Targets:      &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(p.Topic, nil)},
		})
		// The topic's key must let EventBridge encrypt what it publishes.
		p.Topic.MasterKey().AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("EventBridgePublish"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"), // in a key policy "*" means this key
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
		}), nil)
	}
	awscdk.NewCfnOutput(awscdk.Stack_Of(c), jsii.String("EventBusName"), &awscdk.CfnOutputProps{
		Value:       a.Bus.EventBusName(),
		Description: jsii.String("EventBridge bus of the Cloud ALM status events and alerts (source " + rules.Source + ")"),
	})
	return a
}
