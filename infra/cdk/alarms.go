package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// addAlarms creates the alarm topic and the alarms (alarmSpecs), each notifying the topic when
// it fires and when it is OK again.
func (s *CollectorStack) addAlarms(cfg Config) {
	action := awscloudwatchactions.NewSnsAction(s.addAlarmTopic(cfg))
	for _, a := range s.alarmSpecs(cfg) {
		alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String(a.id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(a.description),
			Metric:             a.metric,
			Threshold:          jsii.Number(a.threshold),
			EvaluationPeriods:  jsii.Number(a.periods),
			ComparisonOperator: a.op,
			TreatMissingData:   a.missing,
		})
		alarm.AddAlarmAction(action)
		alarm.AddOkAction(action)
	}
}

// addAlarmTopic creates the alarm topic, KMS-encrypted with a key CloudWatch may use, with the
// optional e-mail subscription (alarmEmail).
func (s *CollectorStack) addAlarmTopic(cfg Config) awssns.Topic {
	// Not alias/aws/sns: CloudWatch alarms cannot publish to a topic
	// encrypted with that AWS managed key (its key policy cannot be changed).
	key := awskms.NewKey(s.Stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("calm-collector: encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	sourceAccount := &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}}
	cloudwatch := &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)}
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: cloudwatch,
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy "*" means this key
		Conditions: sourceAccount,
	}), nil)

	s.Topic = awssns.NewTopic(s.Stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("calm-collector alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	s.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: cloudwatch,
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{s.Topic.TopicArn()},
		Conditions: sourceAccount,
	}))
	if cfg.AlarmEmail != "" {
		s.Topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}
	return s.Topic
}

// alarmSpec is one alarm: it fires when metric compares (op) with threshold in periods
// evaluation periods in a row; missing says what no data counts as.
type alarmSpec struct {
	id, description string
	metric          awscloudwatch.IMetric
	threshold       float64
	periods         float64
	op              awscloudwatch.ComparisonOperator
	missing         awscloudwatch.TreatMissingData
}

// alarmSpecs are the stack's alarms: over the fleet, not per tenant (docs/deploy.md, "Alarms"),
// so their number does not grow with the connectors. Which tenant: the Logs Insights query
// "Failed runs by tenant".
func (s *CollectorStack) alarmSpecs(cfg Config) []alarmSpec {
	period := awscdk.Duration_Seconds(jsii.Number(cfg.SchedulePeriod.Seconds()))
	fleet := func(metricName, stat string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metricNamespace), MetricName: jsii.String(metricName),
			Statistic: jsii.String(stat), Period: period,
		})
	}
	atLeastOnce := func(id, description string, metric awscloudwatch.IMetric) alarmSpec {
		return alarmSpec{id: id, description: description, metric: metric, threshold: 1, periods: 1,
			op: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, missing: awscloudwatch.TreatMissingData_NOT_BREACHING}
	}
	return []alarmSpec{
		atLeastOnce("Errors", "calm-collector: collection runs reported errors (which tenants: the collect function's logs, field tenant)",
			fleet("Errors", "Sum")),
		atLeastOnce("DeadLettered", "calm-collector: a sink refused records or events for good (too large for its destination); "+
			"they are kept under deadletter/ in the archive bucket, the windows moved on (which: the collect function's logs)",
			fleet("DeadLettered", "Sum")),
		{
			id: "NoSuccess", description: "calm-collector: no successful collection run of any tenant for 3 schedule periods " +
				"(no data counts: the schedule, the dispatch or the function may be broken)",
			metric: fleet("RunSuccess", "Sum"), threshold: 1, periods: 3,
			op: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD, missing: awscloudwatch.TreatMissingData_BREACHING,
		},
		// The worst tenant's lag: every run also writes MaxLagSeconds without a dimension, so its
		// Maximum is the fleet's worst at the price of one metric (a Metrics Insights alarm would be
		// billed per tenant analysed). The dashboard's "Lag by tenant" names the tenant.
		{
			id: "WorstLag", description: fmt.Sprintf("calm-collector: the most lagging tenant is more than %d s behind "+
				"(the dashboard's \"Lag by tenant\" names it)", cfg.LagAlarmSeconds),
			metric: fleet("MaxLagSeconds", "Maximum"), threshold: float64(cfg.LagAlarmSeconds), periods: 2,
			op: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, missing: awscloudwatch.TreatMissingData_NOT_BREACHING,
		},
		deadLetterAlarm("WorkDeadLettersAlarm", "calm-collector: a tenant's collection failed twice in a row "+
			"(its message is in the work dead-letter queue; the body names the connector)", s.WorkDLQ),
		deadLetterAlarm("DeadLetters", "calm-collector: EventBridge Scheduler could not invoke collect for a tick "+
			"(message in the schedule's dead-letter queue)", s.DLQ),
		atLeastOnce("CollectFunctionErrors", "calm-collector: the collect function failed (crash, timeout or bad settings at cold start)",
			s.Collect.MetricErrors(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")})),
	}
}

// deadLetterAlarm fires on the first message in a dead-letter queue.
func deadLetterAlarm(id, description string, queue awssqs.Queue) alarmSpec {
	return alarmSpec{
		id: id, description: description,
		metric: queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}),
		threshold: 0, periods: 1,
		op: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, missing: awscloudwatch.TreatMissingData_NOT_BREACHING,
	}
}

// addDashboard shows the fleet through SEARCH and Metrics Insights
// expressions, so new monitors and tenants appear without a redeploy.
func (s *CollectorStack) addDashboard(cfg Config) awscloudwatch.Dashboard {
	p := int(cfg.SchedulePeriod.Seconds())
	if p < 300 {
		p = 300
	}
	period := awscdk.Duration_Seconds(jsii.Number(float64(p)))
	search := func(dims, metricName, stat, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			//nolint:gocritic // sprintfQuotedString: CloudWatch SEARCH syntax, not Go quoting
			Expression:   jsii.String(fmt.Sprintf(`SEARCH('{%s} MetricName="%s"', '%s', %d)`, strings.TrimSuffix(metricNamespace+","+dims, ","), metricName, stat, p)),
			Label:        jsii.String(label),
			Period:       period,
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
		})
	}
	graph := func(title string, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Right: &right, Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}
	lagLine := &awscloudwatch.HorizontalAnnotation{Value: jsii.Number(float64(cfg.LagAlarmSeconds)), Label: jsii.String("lag alarm")}

	d := awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(cfg.StackName),
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(24)),
	})
	// Every tenant without a widget per tenant: the 20 most lagging, by a Metrics Insights
	// query over the one per-tenant metric.
	tenants := awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Lag by tenant, worst 20 (s)"),
		Left: &[]awscloudwatch.IMetric{awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String(`SELECT MAX(MaxLagSeconds) FROM SCHEMA("CalmCollector", tenant) GROUP BY tenant ORDER BY MAX() DESC LIMIT 20`),
			Period:       period,
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
		})},
		LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{lagLine},
		Width:           jsii.Number(24),
		Height:          jsii.Number(6),
		LeftYAxis:       &awscloudwatch.YAxisProps{Min: jsii.Number(0)},
		LegendPosition:  awscloudwatch.LegendPosition_RIGHT,
	})
	lag := awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
		Title:           jsii.String("Lag per monitor, worst tenant (s)"),
		Left:            &[]awscloudwatch.IMetric{search("monitor", "LagSeconds", "Maximum", "")},
		LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{lagLine},
		Width:           jsii.Number(12),
		Height:          jsii.Number(6),
		LeftYAxis:       &awscloudwatch.YAxisProps{Min: jsii.Number(0)},
		LegendPosition:  awscloudwatch.LegendPosition_RIGHT,
	})
	// Which connectors still hold the stack's placeholder: the tick names them and queues none.
	unfilled := awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String("Connectors not filled in yet (not collected; fill in with calmctl test --save or PutSecretValue)"),
		LogGroupNames: &[]*string{s.Collect.LogGroup().LogGroupName()},
		QueryString:   jsii.String("fields @timestamp, @message\n| filter msg like /not filled in yet/\n| sort @timestamp desc\n| limit 1"),
		View:          awscloudwatch.LogQueryVisualizationType_TABLE,
		Width:         jsii.Number(24), Height: jsii.Number(3),
	})
	d.AddWidgets(tenants)
	d.AddWidgets(unfilled)
	d.AddWidgets(
		graph("Runs and failures",
			[]awscloudwatch.IMetric{search("", "RunSuccess", "Sum", "ok runs"), search("", "Errors", "Sum", "errors")},
			[]awscloudwatch.IMetric{s.Collect.MetricInvocations(nil), s.Collect.MetricErrors(nil)}),
		graph("Points per monitor",
			[]awscloudwatch.IMetric{search("monitor", "Points", "Sum", "")}, nil),
	)
	d.AddWidgets(
		lag,
		graph("API requests, retries and 429s",
			[]awscloudwatch.IMetric{
				search("monitor", "Requests", "Sum", "requests"),
				search("monitor", "Retries", "Sum", "retries"),
				search("monitor", "Throttled", "Sum", "429s"),
			}, nil),
	)
	d.AddWidgets(
		graph("Run duration (ms)",
			[]awscloudwatch.IMetric{search("", "RunDuration", "Maximum", "max"), search("", "RunDuration", "Average", "avg")},
			[]awscloudwatch.IMetric{s.Collect.MetricDuration(nil)}),
		graph("Dead letters (schedule, work) and function errors",
			[]awscloudwatch.IMetric{s.DLQ.MetricApproximateNumberOfMessagesVisible(nil), s.WorkDLQ.MetricApproximateNumberOfMessagesVisible(nil)},
			[]awscloudwatch.IMetric{s.Collect.MetricErrors(nil), s.Testconn.MetricErrors(nil)}),
	)
	return d
}
