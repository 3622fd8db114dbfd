package record

import (
	"encoding/json"
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// FuzzFromMetrics: any OTLP JSON that pdata decodes becomes exactly PointCount records, each
// with an id, encoded as one valid JSON line that decodes back to the same record.
func FuzzFromMetrics(f *testing.F) {
	md := testMetrics()
	seed, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"dataPoints":[{"timeUnixNano":"1","asInt":"-9"}]}}]}]}]}`))
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"timeUnixNano":"1795687200000000000","count":"3","sum":1e308,"bucketCounts":["1","2"],"explicitBounds":[0.5]}]}}]}]}]}`))
	f.Add([]byte(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"k","value":{"kvlistValue":{"values":[{"key":"a","value":{"doubleValue":"NaN"}}]}}}]},"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":"Infinity","attributes":[{"key":"k","value":{"bytesValue":"AAE="}}]}]}}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(data)
		if err != nil {
			return
		}
		recs := AppendFromMetrics(nil, "tenant", "hm", md)
		if len(recs) != PointCount(md) {
			t.Fatalf("%d records, PointCount %d", len(recs), PointCount(md))
		}
		for i := range recs {
			r := &recs[i]
			if r.ID == "" || r.Kind() != KindMetric || r.Tenant() != "tenant" || r.Monitor() != "hm" {
				t.Fatalf("record %d: %+v", i, r)
			}
			line := AppendJSON(nil, r)
			if !json.Valid(line) {
				t.Fatalf("record %d encodes to invalid JSON: %s", i, line)
			}
			back, err := Decode(line)
			if err != nil {
				t.Fatalf("record %d: decode %s: %v", i, line, err)
			}
			if back.ID != r.ID || back.Name() != r.Name() || !back.Time.Equal(r.Time) || back.HasValue != r.HasValue ||
				back.NumAttrs() != r.NumAttrs() {
				t.Fatalf("record %d does not round-trip:\n %+v\n %+v", i, *r, back)
			}
			if r.HasValue && back.Value != r.Value && !(math.IsNaN(r.Value) && math.IsNaN(back.Value)) {
				t.Fatalf("record %d value %v came back as %v", i, r.Value, back.Value)
			}
			for k, v := range r.Attrs() {
				if back.Attr(k) != v {
					t.Fatalf("record %d attribute %q = %q came back as %q", i, k, v, back.Attr(k))
				}
			}
		}
	})
}

// PointCount returns how many records FromMetrics makes of md, counted from the OTLP shapes.
func PointCount(md pmetric.Metrics) int {
	n := 0
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		sms := rms.At(i).ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				n += metricRecords(ms.At(k))
			}
		}
	}
	return n
}

func metricRecords(m pmetric.Metric) int {
	n := 0
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		n = m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		n = m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := range dps.Len() {
			n += 1 + b2i(dps.At(i).HasSum())
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		for i := range dps.Len() {
			n += 1 + b2i(dps.At(i).HasSum())
		}
	case pmetric.MetricTypeSummary:
		n = 2 * m.Summary().DataPoints().Len()
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
