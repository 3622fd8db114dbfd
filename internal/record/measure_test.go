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
			dp.Attributes().PutStr("measure", pointMeasure)
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

// Two measures of one series never share an id, whichever way the tenant names its metrics: a
// metric named after its series' metricName is named after the measure in its description, so
// its records and ids are those of the default naming.
func TestMeasuresOfOneSeriesNeverShareAnID(t *testing.T) {
	asked := []string{"measure:value", "measure:usage", "measure:okStatus"}
	byMeasure := collectOf(t, asked, namedMetrics(false, ""))
	byMetricName := collectOf(t, asked, namedMetrics(true, ""))
	ids := map[string]bool{}
	for _, r := range byMetricName {
		ids[r.ID] = true
	}
	if len(byMetricName) != 3 || len(ids) != 3 || len(byMeasure) != 3 {
		t.Fatalf("%d and %d records, %d ids under metricName naming; want 3, 3 and 3", len(byMeasure), len(byMetricName), len(ids))
	}
	plain := AppendFromMetrics(nil, "t", "hm", namedMetrics(false, ""))
	for i, measure := range []string{"value", "usage", "okStatus"} {
		want := PointID("t", "hm", measure, map[string]string{"serviceId": "svc-1", "metricName": "CPU_UTILIZATION"}, t0)
		for _, r := range []Record{byMeasure[i], byMetricName[i], plain[i]} {
			if r.Name() != measure || r.ID != want || r.NumAttrs() != 2 {
				t.Errorf("record %s %s %v; want name %s, id %s and the two attributes", r.Name(), r.ID, r.AttrMap(), measure, want)
			}
		}
	}
	// Without the asked measures the description is not read: the records keep the metric's
	// name and collide (which the collector counts and reports).
	if plain := AppendFromMetrics(nil, "t", "hm", namedMetrics(true, "")); plain[0].ID != plain[1].ID || plain[0].Name() != "CPU_UTILIZATION" {
		t.Errorf("FromMetrics read the description: %s %s and %s", plain[0].Name(), plain[0].ID, plain[1].ID)
	}
}

// A description that is not a measure asked for, or a metric named after a measure, keeps the
// metric's name; a point's own measure attribute is an attribute like any other.
func TestOnlyAnAskedMeasureRenames(t *testing.T) {
	if r := collectOf(t, []string{"usage"}, namedMetrics(true, "")); r[0].Name() != "CPU_UTILIZATION" || r[1].Name() != "usage" {
		t.Errorf("names %s, %s; want CPU_UTILIZATION (value not asked for) and usage", r[0].Name(), r[1].Name())
	}
	md := namedMetrics(false, "own")
	md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).SetDescription("usage")
	if r := collectOf(t, []string{"value", "usage"}, md); r[0].Name() != "value" || r[0].Attr("measure") != "own" {
		t.Errorf("record %s %v; want value (named after a measure) with its own measure attribute", r[0].Name(), r[0].AttrMap())
	}
}
