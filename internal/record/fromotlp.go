package record

import (
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// FromMetrics turns every data point of md into a Record of kind metric and calls fn with each,
// in the order of md; it stops at and returns the first error of fn.
//
//   - Gauge and sum points become one record each, named after the metric, with the metric's
//     unit and the point's int or double value. A point flagged "no recorded value" (or with no
//     value at all) becomes a record with HasValue false.
//   - Histogram, exponential histogram and summary points become a "<name>.count" record (no
//     unit) and, when the point has a sum, a "<name>.sum" record (the metric's unit). Buckets,
//     quantiles, min and max are not carried.
//   - Time is the point's timestamp in UTC; the series' attributes are the resource attributes
//     merged with the point's attributes (the point wins), every value as
//     pcommon.Value.AsString; ID is the series' PointID at Time. Scope attributes are not
//     carried. The records of one series share one *Series.
//
// Callers that collect a window drop the records whose Time falls outside it.
func FromMetrics(tenant, monitor string, md pmetric.Metrics, fn func(Record) error) error {
	return FromMetricsOf(tenant, monitor, nil, md, fn)
}

// FromMetricsOf is FromMetrics for a query that asked for measures (as the metrics parameter
// spells them, "measure:value" or "value"). A metric named after one of them is converted as
// FromMetrics does. A metric named otherwise (after its series' metricName, or generically)
// whose description is one of them gives its records that measure as their name, as if the
// tenant had named the metric after it: two measures of one series never share an id, records
// and their ids are the same under either naming, and rules, queries and sinks that select by
// measure name see them (docs/cloud-alm-api.md, "Metric naming").
func FromMetricsOf(tenant, monitor string, measures []string, md pmetric.Metrics, fn func(Record) error) error {
	c := converter{tenant: tenant, monitor: monitor, emit: fn}
	for _, m := range measures {
		c.measures = append(c.measures, strings.TrimPrefix(m, "measure:"))
	}
	return c.metrics(md)
}

// converter carries the scratch space reused for every point of one FromMetrics call.
type converter struct {
	tenant, monitor string
	emit            func(Record) error
	measures        []string           // the measures asked for, without "measure:"
	resource        []pair             // attributes of the current resource, sorted by key
	point, merged   []pair             // scratch: the point's attributes, and both merged
	known           []seriesIDs        // the series of this call, each with its ids' hash state
	series          map[uint64]int32   // the index in known of a series by a hash of its fields (seriesAt)
	byAttrs         map[uint64]*Series // a series of this call by a hash of its attributes alone
}

func (c *converter) metrics(md pmetric.Metrics) error {
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		c.resource = sortedPairs(c.resource[:0], rm.Resource().Attributes())
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				if err := c.metric(ms.At(k)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *converter) metric(m pmetric.Metric) error {
	name, unit := ValidText(m.Name()), ValidText(m.Unit())
	if d := m.Description(); d != name && !slices.Contains(c.measures, name) && slices.Contains(c.measures, d) {
		name = d // named after its series or generically: the measure is in the description
	}
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return c.numbers(name, unit, m.Gauge().DataPoints(), false)
	case pmetric.MetricTypeSum:
		// A delta sum counts what happened in its bucket: exported again as one (Record.Count).
		return c.numbers(name, unit, m.Sum().DataPoints(), m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityDelta)
	case pmetric.MetricTypeHistogram:
		dps := m.Histogram().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			if err := c.countSum(name, unit, dp.Attributes(), dp.Timestamp(), dp.Flags(), dp.Count(), dp.HasSum(), dp.Sum()); err != nil {
				return err
			}
		}
	case pmetric.MetricTypeExponentialHistogram:
		dps := m.ExponentialHistogram().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			if err := c.countSum(name, unit, dp.Attributes(), dp.Timestamp(), dp.Flags(), dp.Count(), dp.HasSum(), dp.Sum()); err != nil {
				return err
			}
		}
	case pmetric.MetricTypeSummary:
		dps := m.Summary().DataPoints()
		for i := range dps.Len() {
			dp := dps.At(i)
			if err := c.countSum(name, unit, dp.Attributes(), dp.Timestamp(), dp.Flags(), dp.Count(), true, dp.Sum()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *converter) numbers(name, unit string, dps pmetric.NumberDataPointSlice, count bool) error {
	for i := range dps.Len() {
		dp := dps.At(i)
		c.mergeAttrs(dp.Attributes())
		r := c.record(name, unit, count, dp.Timestamp())
		if !dp.Flags().NoRecordedValue() {
			switch dp.ValueType() {
			case pmetric.NumberDataPointValueTypeDouble:
				r.Value, r.HasValue = dp.DoubleValue(), true
			case pmetric.NumberDataPointValueTypeInt:
				r.Value, r.HasValue = float64(dp.IntValue()), true
			}
		}
		if err := c.emit(r); err != nil {
			return err
		}
	}
	return nil
}

func (c *converter) countSum(name, unit string, attrs pcommon.Map, ts pcommon.Timestamp, flags pmetric.DataPointFlags, count uint64, hasSum bool, sum float64) error {
	c.mergeAttrs(attrs)
	r := c.record(name+".count", "", false, ts)
	r.Value, r.HasValue = float64(count), !flags.NoRecordedValue()
	if err := c.emit(r); err != nil {
		return err
	}
	if !hasSum {
		return nil
	}
	r = c.record(name+".sum", unit, false, ts)
	r.Value, r.HasValue = sum, !flags.NoRecordedValue()
	return c.emit(r)
}

// record builds the record of the attributes last merged.
func (c *converter) record(name, unit string, count bool, ts pcommon.Timestamp) Record {
	t := time.Unix(0, int64(ts)).UTC()
	k := &c.known[c.seriesAt(KindMetric, name, unit, count)]
	return Record{Series: k.s, Point: Point{ID: k.pointID(t), Time: t}}
}

// seriesAt returns the index in c.known of the series of the attributes last merged: the one
// made earlier in this call when there is one, else a new one, which shares its attributes with
// an earlier series of equal attributes (another measure of the same data points:
// Series.sibling).
func (c *converter) seriesAt(kind, name, unit string, count bool) int32 {
	var h maphash.Hash
	h.SetSeed(seriesSeed)
	for _, p := range c.merged {
		h.WriteString(p.k)
		h.WriteString(p.v)
	}
	attrsKey := h.Sum64()
	h.WriteString(name)
	h.WriteString(unit)
	key := h.Sum64()
	if i, ok := c.series[key]; ok {
		if s := c.known[i].s; s.name == name && s.unit == unit && s.kind == kind && s.count == count && slices.Equal(s.attrs, c.merged) {
			return i
		}
	}
	if c.series == nil {
		c.series, c.byAttrs = map[uint64]int32{}, map[uint64]*Series{}
	}
	var s *Series
	if like := c.byAttrs[attrsKey]; like != nil && slices.Equal(like.attrs, c.merged) {
		s = like.sibling(kind, name, unit, count)
	} else {
		s = newSeries(c.tenant, c.monitor, kind, name, unit, count, slices.Clone(c.merged))
		c.byAttrs[attrsKey] = s
	}
	c.known = append(c.known, seriesIDs{s: s})
	i := int32(len(c.known) - 1)
	c.series[key] = i // on a collision of hashes, the later series
	return i
}

var seriesSeed = maphash.MakeSeed()

// mergeAttrs sets c.merged to the resource attributes overwritten by the point's, sorted by key.
// Both lists are sorted, so this is a merge: no map, and only the point's few keys get sorted.
func (c *converter) mergeAttrs(point pcommon.Map) {
	c.point = sortedPairs(c.point[:0], point)
	res, pt, out := c.resource, c.point, c.merged[:0]
	for len(res) > 0 && len(pt) > 0 {
		switch {
		case res[0].k < pt[0].k:
			out, res = append(out, res[0]), res[1:]
		case res[0].k > pt[0].k:
			out, pt = append(out, pt[0]), pt[1:]
		default: // the point wins
			out, res, pt = append(out, pt[0]), res[1:], pt[1:]
		}
	}
	out = append(append(out, res...), pt...)
	c.merged = out
}

// set sets the merged attribute k to v.
func (c *converter) set(k, v string) {
	i, ok := slices.BinarySearchFunc(c.merged, k, byKey)
	if ok {
		c.merged[i].v = v
	} else {
		c.merged = slices.Insert(c.merged, i, pair{k, v})
	}
}

// del deletes the merged attribute k.
func (c *converter) del(k string) {
	if i, ok := slices.BinarySearchFunc(c.merged, k, byKey); ok {
		c.merged = slices.Delete(c.merged, i, i+1)
	}
}

func byKey(p pair, k string) int { return strings.Compare(p.k, k) }

// sortedPairs appends attrs to dst as strings (ValidText), sorted by key; of repeated keys the
// last wins, as it would when assigned to a map in order.
func sortedPairs(dst []pair, attrs pcommon.Map) []pair {
	for k, v := range attrs.All() {
		dst = append(dst, pair{ValidText(k), ValidText(v.AsString())})
	}
	// insertion sort: attribute lists are short, and it is stable
	for i := 1; i < len(dst); i++ {
		for j := i; j > 0 && dst[j].k < dst[j-1].k; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	out := dst[:0]
	for i, p := range dst {
		if i+1 < len(dst) && dst[i+1].k == p.k {
			continue
		}
		out = append(out, p)
	}
	return out
}
