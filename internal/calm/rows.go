package calm

import (
	"hash/maphash"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// rowSeed seeds the row keys; keys are compared only within one process.
var rowSeed = maphash.MakeSeed()

// rowKeys returns the keys of the rows of a metrics page: a row is one series (resource and
// data-point attributes) at one time, whatever measures it carries. Under rows paging the
// Analytics API counts these; under points paging, the data points. See pages.
func rowKeys(md pmetric.Metrics) map[uint64]struct{} {
	keys := map[uint64]struct{}{}
	var h maphash.Hash
	h.SetSeed(rowSeed)
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		var res maphash.Hash
		res.SetSeed(rowSeed)
		writeAttrs(&res, rm.Resource().Attributes())
		resKey := res.Sum64()
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				eachPoint(ms.At(k), func(attrs pcommon.Map, t pcommon.Timestamp) {
					h.Reset()
					var b [16]byte
					for x := range 8 {
						b[x] = byte(resKey >> (8 * x))
						b[8+x] = byte(uint64(t) >> (8 * x))
					}
					h.Write(b[:])
					writeAttrs(&h, attrs)
					keys[h.Sum64()] = struct{}{}
				})
			}
		}
	}
	return keys
}

// writeAttrs hashes attributes in key order (the order within a body may differ per metric).
func writeAttrs(h *maphash.Hash, m pcommon.Map) {
	ks := make([]string, 0, m.Len())
	for k := range m.All() {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		v, _ := m.Get(k)
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v.AsString())
		h.WriteByte(0)
	}
}

// eachPoint calls f with the attributes and time of every data point of a metric.
func eachPoint(m pmetric.Metric, f func(pcommon.Map, pcommon.Timestamp)) {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			f(dp.Attributes(), dp.Timestamp())
		}
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			f(dp.Attributes(), dp.Timestamp())
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			f(dp.Attributes(), dp.Timestamp())
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			f(dp.Attributes(), dp.Timestamp())
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range m.Summary().DataPoints().All() {
			f(dp.Attributes(), dp.Timestamp())
		}
	}
}
