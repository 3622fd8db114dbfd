package record

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// namedMetrics builds one hm series served with every measure as its own gauge: named after
// the measure (name == measure) or, as a tenant may, after the series' metricName with the
// measure in the description. pointMeasure, when set, is a "measure" attribute on the points.
func namedMetrics(byMetricName bool, pointMeasure string) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("serviceId", "svc-1")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	for i, measure := range []string{"value", "usage", "okStatus"} {
		m := ms.AppendEmpty()
		m.SetName(measure)
		if byMetricName {
			m.SetName("CPU_UTILIZATION")
			m.SetDescription(measure)
		}
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(pcommon.NewTimestampFromTime(t0))
		dp.SetDoubleValue(float64(i))
		dp.Attributes().PutStr("metricName", "CPU_UTILIZATION")
		if pointMeasure != "" {
			dp.Attributes().PutStr(MeasureAttr, pointMeasure)
		}
	}
	return md
}

func collectOf(t *testing.T, measures []string, md pmetric.Metrics) []Record {
	t.Helper()
	var out []Record
	if err := FromMetricsOf("t", "hm", measures, md, func(r Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Two measures of one series never share an id, whichever way the tenant names its metrics;
// metrics named after the measure keep FromMetrics' ids (checkpointed consumers dedupe by id).
func TestMeasuresOfOneSeriesNeverShareAnID(t *testing.T) {
	asked := []string{"measure:value", "measure:usage", "measure:okStatus"}
	for _, byMetricName := range []bool{false, true} {
		recs := collectOf(t, asked, namedMetrics(byMetricName, ""))
		ids := map[string]bool{}
		for _, r := range recs {
			ids[r.ID] = true
		}
		if len(recs) != 3 || len(ids) != 3 {
			t.Fatalf("byMetricName=%v: %d records with %d ids, want 3 and 3", byMetricName, len(recs), len(ids))
		}
		plain := AppendFromMetrics(nil, "t", "hm", namedMetrics(byMetricName, ""))
		for i, r := range recs {
			measure := []string{"value", "usage", "okStatus"}[i]
			if want := MetricPointID("t", "hm", r.Name, measure, map[string]string{"serviceId": "svc-1", "metricName": "CPU_UTILIZATION"}, t0); r.ID != want {
				t.Errorf("byMetricName=%v %s: id %s, MetricPointID %s", byMetricName, measure, r.ID, want)
			}
			switch {
			case byMetricName && r.Attributes[MeasureAttr] != measure:
				t.Errorf("metric named CPU_UTILIZATION: record %d has measure %q, want %q", i, r.Attributes[MeasureAttr], measure)
			case !byMetricName && (r.ID != plain[i].ID || len(r.Attributes) != 2):
				t.Errorf("metric named %s: id %s attributes %v, want FromMetrics' id %s and no measure attribute", r.Name, r.ID, r.Attributes, plain[i].ID)
			}
		}
	}
	// Without the asked measures the description is not read: the records collide (which the
	// collector counts and reports).
	if plain := AppendFromMetrics(nil, "t", "hm", namedMetrics(true, "")); plain[0].ID != plain[1].ID {
		t.Errorf("FromMetrics read the description: ids %s and %s", plain[0].ID, plain[1].ID)
	}
}

// A point's own measure attribute wins over the description.
func TestMeasureAttributeOfThePointWins(t *testing.T) {
	recs := collectOf(t, []string{"value", "usage", "okStatus"}, namedMetrics(true, "own"))
	for _, r := range recs {
		if r.Attributes[MeasureAttr] != "own" {
			t.Errorf("measure attribute %q, want the point's own", r.Attributes[MeasureAttr])
		}
	}
	attrs := map[string]string{MeasureAttr: "own"}
	if MetricPointID("t", "hm", "n", "value", attrs, t0) != PointID("t", "hm", "n", attrs, t0) || len(attrs) != 1 {
		t.Errorf("MetricPointID replaced or changed the point's own measure attribute")
	}
	if MetricPointID("t", "hm", "value", "value", nil, t0) != PointID("t", "hm", "value", nil, t0) {
		t.Errorf("MetricPointID of a metric named after its measure differs from PointID")
	}
	if MetricPointID("t", "hm", "n", "value", nil, t0) == MetricPointID("t", "hm", "n", "usage", nil, t0) {
		t.Errorf("two measures of one metric name share an id")
	}
}
