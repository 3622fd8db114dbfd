package record

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"hash"
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
//   - Time is the point's timestamp in UTC; Attributes are the resource attributes merged with
//     the point's attributes (the point wins), every value as pcommon.Value.AsString; ID is
//     PointID of the record. Scope attributes are not carried.
//   - Records whose attributes are equal may share one map (points of a series, the count and
//     sum of a histogram point): fn must not change a record's Attributes; a caller
//     that wants to copies the map first. One map per series instead of one per point is most
//     of the converter's allocations saved (BENCHMARKS.md, 24 h backfill).
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

// AppendFromMetrics appends the records of FromMetrics to dst and returns the extended slice.
func AppendFromMetrics(dst []Record, tenant, monitor string, md pmetric.Metrics) []Record {
	dst = slices.Grow(dst, PointCount(md))
	_ = FromMetrics(tenant, monitor, md, func(r Record) error {
		dst = append(dst, r)
		return nil
	})
	return dst
}

// PointCount returns how many records FromMetrics makes of md.
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

// converter carries the scratch space reused for every point of one FromMetrics call.
type converter struct {
	tenant, monitor string
	emit            func(Record) error
	measures        []string // the measures asked for, without "measure:"
	resource        []pair   // attributes of the current resource, sorted by key
	point, merged   []pair   // scratch: the point's attributes, and both merged
	idBuf           []byte   // scratch: the bytes hashed into an id
	// recent are the maps of the attributes last made into one: a record of equal attributes
	// gets the same map. A few, not one: series may take turns (a histogram's count and sum,
	// points of several series at one time).
	recent [recentMaps]sharedMap
	next   int // the slot of recent the next new map takes
	// hash and states make ids: the hash state after the bytes of each of the last few series
	// (id).
	hash      hash.Hash
	states    [recentMaps]hashState
	nextState int
	timeBuf   [8]byte           // scratch: a time as hashed
	sumBuf    [sha256.Size]byte // scratch: a hash
}

// hashState is the state of an id's hash after key, the bytes of a series.
type hashState struct{ key, state []byte }

// recentMaps is how many attribute maps a converter looks back at.
const recentMaps = 4

// sharedMap is a map of attributes and the sorted pairs it was made of.
type sharedMap struct {
	m  map[string]string
	of []pair
}

// pair is one attribute with its value as a string.
type pair struct{ k, v string }

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
		r := c.record(name, unit, c.attrMap(), dp.Timestamp())
		r.Count = count
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
	r := c.record(name+".count", "", c.attrMap(), ts)
	r.Value, r.HasValue = float64(count), !flags.NoRecordedValue()
	if err := c.emit(r); err != nil {
		return err
	}
	if !hasSum {
		return nil
	}
	r = c.record(name+".sum", unit, c.attrMap(), ts)
	r.Value, r.HasValue = sum, !flags.NoRecordedValue()
	return c.emit(r)
}

// record builds the record of the attributes last merged.
func (c *converter) record(name, unit string, attrs map[string]string, ts pcommon.Timestamp) Record {
	t := time.Unix(0, int64(ts)).UTC()
	return Record{
		ID:     c.id(name, t),
		Tenant: c.tenant, Monitor: c.monitor, Kind: KindMetric, Name: name, Unit: unit,
		Time: t, Attributes: attrs,
	}
}

// id is PointID of a record named name, of the attributes last merged, at t. The bytes hashed
// are the series' (tenant, monitor, name, attributes) and then the time: the hash state after a
// series' bytes is kept for the last few series, so a point of one of them hashes only the
// rest (a sixth of the bytes, in the usual case).
func (c *converter) id(name string, t time.Time) string {
	c.idBuf = appendSeriesKey(c.idBuf[:0], c.tenant, c.monitor, name, c.merged)
	if c.hash == nil {
		c.hash = sha256.New()
	}
	var state []byte
	for i := range c.states {
		if s := &c.states[i]; s.state != nil && bytes.Equal(s.key, c.idBuf) {
			state = s.state
			break
		}
	}
	if state == nil || c.hash.(encoding.BinaryUnmarshaler).UnmarshalBinary(state) != nil {
		c.hash.Reset()
		c.hash.Write(c.idBuf)
		if st, err := c.hash.(encoding.BinaryMarshaler).MarshalBinary(); err == nil {
			s := &c.states[c.nextState]
			s.key, s.state = append(s.key[:0], c.idBuf...), st
			c.nextState = (c.nextState + 1) % recentMaps
		}
	}
	binary.BigEndian.PutUint64(c.timeBuf[:], uint64(t.UTC().UnixNano()))
	c.hash.Write(c.timeBuf[:])
	sum := c.hash.Sum(c.sumBuf[:0])
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}

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

// attrMap returns a map of the attributes last merged: the one of a recent record when its
// attributes are the same, a new one otherwise.
func (c *converter) attrMap() map[string]string {
	for i := range c.recent {
		if r := &c.recent[i]; r.m != nil && slices.Equal(c.merged, r.of) {
			return r.m
		}
	}
	m := make(map[string]string, len(c.merged))
	for _, p := range c.merged {
		m[p.k] = p.v
	}
	r := &c.recent[c.next]
	r.m, r.of = m, append(r.of[:0], c.merged...)
	c.next = (c.next + 1) % recentMaps
	return m
}

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

// appendSeriesKey appends the bytes PointID hashes before the time, from attributes already
// sorted by key (a test checks that the ids are equal to PointID's).
func appendSeriesKey(b []byte, tenant, monitor, name string, sorted []pair) []byte {
	b = appendField(b, tenant)
	b = appendField(b, monitor)
	b = appendField(b, name)
	b = binary.BigEndian.AppendUint64(b, uint64(len(sorted)))
	for _, p := range sorted {
		b = appendField(b, p.k)
		b = appendField(b, p.v)
	}
	return b
}

func appendField(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}
