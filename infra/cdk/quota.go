package main

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"

	"github.com/calm-collector/calm-collector/internal/quota"
)

// The fair-use quota of API data (docs/transfer.md, "The quota as a budget"; its rule is
// internal/quota's).
const (
	keyAPIQuotaGB = "apiQuotaGB"
	// quotaAlarmPercent is the share of the quota the month-to-date projection may reach before
	// the alarm fires: the share the connection test warns at.
	quotaAlarmPercent = 100 * quota.WarnShare
	// quotaMetric is the collect function's EMF metric of the worst tenant's projection
	// (emf.QuotaProjectionMetric).
	quotaMetric = "QuotaProjectionPercent"
)

// apiQuotaGB accepts a positive number of gigabytes, as JSON or as a string.
func (p *parser) apiQuotaGB(def float64) float64 {
	return scalar(p, keyAPIQuotaGB, def, "a positive number of gigabytes like 24", func(v any) (float64, bool) {
		f, ok := v.(float64)
		return f, ok
	}, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
}

// checkQuota checks the quota setting.
func (c *Config) checkQuota(p *problems) {
	if !quota.ValidGB(c.APIQuotaGB) {
		// the words the functions use for the CALM_API_QUOTA_GB this would write (refuse_test.go)
		p.fail(keyAPIQuotaGB, "%s", quota.Problem(quotaEnv(*c)))
	}
}

// quotaEnv is CALM_API_QUOTA_GB, the setting both functions read (quota.ParseGB).
func quotaEnv(cfg Config) string { return quota.FormatGB(cfg.APIQuotaGB) }

// addQuotaAlarm alarms when the worst tenant's month-to-date API bytes, projected to the month,
// pass quotaAlarmPercent of apiQuotaGB. The collect function writes the projection of each run
// as one metric without a tenant dimension (its Maximum is the worst tenant, at the price of
// one metric) and logs the tenant at warn; hourly, two hours in a row, so that the first runs
// of a month (a small elapsed fraction) do not fire it alone.
func (s *CollectorStack) addQuotaAlarm(cfg Config) {
	alarm := awscloudwatch.NewAlarm(s.Stack, jsii.String("QuotaProjection"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("calm-collector: a tenant's API bytes this month, projected to the month, pass " +
			strconv.FormatFloat(quotaAlarmPercent, 'f', -1, 64) + " % of its " + quotaEnv(cfg) + " GB fair-use quota " +
			"(which tenant: the collect function's warning \"above the quota share\", field tenant)"),
		Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metricNamespace), MetricName: jsii.String(quotaMetric),
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Hours(jsii.Number(1)),
		}),
		Threshold:          jsii.Number(quotaAlarmPercent),
		EvaluationPeriods:  jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	action := awscloudwatchactions.NewSnsAction(s.Topic)
	alarm.AddAlarmAction(action)
	alarm.AddOkAction(action)
}
