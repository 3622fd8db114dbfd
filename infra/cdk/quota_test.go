package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/emf"
	"github.com/calm-collector/calm-collector/internal/quota"
)

// The meeting point of the quota setting: apiQuotaGB reaches both functions as the
// CALM_API_QUOTA_GB they parse (collect.ConfigFromEnv, quota.ParseGB) into the same bytes,
// and the alarm watches the metric the collect function writes (name, namespace, no
// dimension) at the share the connection test warns at.
func TestQuotaSettingReachesTheFunctionsAndTheAlarm(t *testing.T) {
	if quotaMetric != emf.QuotaProjectionMetric || metricNamespace != emf.Namespace {
		t.Fatalf("the stack's quota metric %s/%s differs from the function's %s/%s", metricNamespace, quotaMetric, emf.Namespace, emf.QuotaProjectionMetric)
	}
	s := synth(t, map[string]any{keyAPIQuotaGB: "48.5"})
	for _, fn := range []string{collectLogicalID, testconnLogicalID} {
		props := s.json["Resources"].(map[string]any)[fn].(map[string]any)["Properties"].(map[string]any)
		vars := props["Environment"].(map[string]any)["Variables"].(map[string]any)
		v, _ := vars["CALM_API_QUOTA_GB"].(string)
		if got, err := quota.ParseGB(v); err != nil || got != 48_500_000_000 {
			t.Errorf("%s: CALM_API_QUOTA_GB %q parses to %d, %v; want 48.5 GB", fn, v, got, err)
		}
		if fn == collectLogicalID {
			c, err := collect.ConfigFromEnv(func(k string) string { s, _ := vars[k].(string); return s })
			if err != nil || c.APIQuotaBytes != 48_500_000_000 {
				t.Errorf("collect reads APIQuotaBytes %d, %v from the template's environment; want 48.5 GB", c.APIQuotaBytes, err)
			}
		}
	}
	topic := ref(s.logicalID(t, "AWS::SNS::Topic", "Alarms"))
	check(t, "the quota alarm", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), obj(map[string]any{
			"Namespace": emf.Namespace, "MetricName": emf.QuotaProjectionMetric, "Dimensions": assertions.Match_Absent(),
			"Statistic": "Maximum", "Period": 3600, "EvaluationPeriods": 2, "Threshold": 100 * quota.WarnShare,
			"ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
			"AlarmDescription": assertions.Match_StringLikeRegexp(jsii.String("48.5 GB")),
			"AlarmActions":     []any{topic}, "OKActions": []any{topic},
		}))
	})
}

func TestQuotaSettingIsChecked(t *testing.T) {
	for _, v := range []any{"lots", -1.0, 0.0, "0"} {
		_, err := ConfigFromContext(func(k string) any {
			switch k {
			case keyAPIQuotaGB:
				return v
			case keyBootstrapDir:
				return bootstrapDir()
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), `context "apiQuotaGB"`) {
			t.Errorf("apiQuotaGB %v: %v, want an error naming the key", v, err)
		}
	}
}
