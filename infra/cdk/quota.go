package main

import (
	"math"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"
)

// The fair-use quota of API data (docs/transfer.md, "The quota as a budget").
const (
	keyAPIQuotaGB = "apiQuotaGB"
	// defaultAPIQuotaGB is the 24 GB a month in a Cloud ALM tenant's fair use (calm.QuotaBytes;
	// a test keeps them equal).
	defaultAPIQuotaGB = 24.0
	// quotaAlarmPercent is the share of the quota the month-to-date projection may reach before
	// the alarm fires: the share the connection test warns at (calm.QuotaWarnShare).
	quotaAlarmPercent = 50.0
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
	if !(c.APIQuotaGB > 0) || math.IsInf(c.APIQuotaGB, 0) || c.APIQuotaGB > 1e9 {
		// the words of calm.ParseQuotaGB for the CALM_API_QUOTA_GB this would write (refuse_test.go)
		p.fail(keyAPIQuotaGB, "%q is not a positive number of gigabytes like 24 (the tenant's monthly API quota)", quotaEnv(*c))
	}
}

// quotaEnv is CALM_API_QUOTA_GB, the setting both functions read (calm.ParseQuotaGB).
func quotaEnv(cfg Config) string { return strconv.FormatFloat(cfg.APIQuotaGB, 'f', -1, 64) }

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
