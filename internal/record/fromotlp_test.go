package record

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

var t0 = time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)

// testMetrics builds one resource with a gauge (double, int and a "no value" point), a sum, a
// histogram with and without sum, an exponential histogram and a summary.
func testMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	ra := rm.Resource().Attributes()
	ra.PutStr("serviceId", "svc-1")
	ra.PutStr("serviceName", "S4H.100")
	ra.PutStr("shared", "from-resource")
	ra.PutInt("port", 443)
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()

	g := ms.AppendEmpty()
	g.SetName("calm.cpu")
	g.SetUnit("%")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	dp.SetDoubleValue(12.5)
	dp.Attributes().PutStr("shared", "from-point")
	dp.Attributes().PutBool("up", true)
	dp = g.Gauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(5 * time.Minute)))
	dp.SetIntValue(7)
	dp = g.Gauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(10 * time.Minute)))
	dp.SetDoubleValue(99)
	dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))

	s := ms.AppendEmpty()
	s.SetName("calm.requests")
	s.SetUnit("1")
	sdp := s.SetEmptySum().DataPoints().AppendEmpty()
	sdp.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	sdp.SetIntValue(1 << 40)

	h := ms.AppendEmpty()
	h.SetName("calm.latency")
	h.SetUnit("ms")
	hdp := h.SetEmptyHistogram().DataPoints().AppendEmpty()
	hdp.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	hdp.SetCount(4)
	hdp.SetSum(250.5)
	hdp.BucketCounts().FromRaw([]uint64{1, 3})
	hdp.ExplicitBounds().FromRaw([]float64{100})
	hdp.Attributes().PutStr("shared", "from-histogram")
	hdp = h.Histogram().DataPoints().AppendEmpty()
	hdp.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(5 * time.Minute)))
	hdp.SetCount(2)

	e := ms.AppendEmpty()
	e.SetName("calm.size")
	e.SetUnit("By")
	edp := e.SetEmptyExponentialHistogram().DataPoints().AppendEmpty()
	edp.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	edp.SetCount(3)
	edp.SetSum(30)

	su := ms.AppendEmpty()
	su.SetName("calm.duration")
	su.SetUnit("s")
	sudp := su.SetEmptySummary().DataPoints().AppendEmpty()
	sudp.SetTimestamp(pcommon.NewTimestampFromTime(t0))
	sudp.SetCount(10)
	sudp.SetSum(1.5)
	return md
}

func metric(name, unit string, at time.Time, value float64, has bool, attrs map[string]string) Record {
	return Record{
		Series: NewSeries("prod", "hm", KindMetric, name, unit, false, attrs), Point: Point{ID: PointID("prod", "hm", name, attrs, at), Time: at, Value: value, HasValue: has}}
}

func TestFromMetrics(t *testing.T) {
	res := func(extra ...string) map[string]string {
		m := map[string]string{"serviceId": "svc-1", "serviceName": "S4H.100", "shared": "from-resource", "port": "443"}
		for i := 0; i < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	want := []Record{
		metric("calm.cpu", "%", t0, 12.5, true, res("shared", "from-point", "up", "true")),
		metric("calm.cpu", "%", t0.Add(5*time.Minute), 7, true, res()),
		metric("calm.cpu", "%", t0.Add(10*time.Minute), 0, false, res()),
		metric("calm.requests", "1", t0, 1<<40, true, res()),
		metric("calm.latency.count", "", t0, 4, true, res("shared", "from-histogram")),
		metric("calm.latency.sum", "ms", t0, 250.5, true, res("shared", "from-histogram")),
		metric("calm.latency.count", "", t0.Add(5*time.Minute), 2, true, res()),
		metric("calm.size.count", "", t0, 3, true, res()),
		metric("calm.size.sum", "By", t0, 30, true, res()),
		metric("calm.duration.count", "", t0, 10, true, res()),
		metric("calm.duration.sum", "s", t0, 1.5, true, res()),
	}
	md := testMetrics()
	got := AppendFromMetrics(nil, "prod", "hm", md)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d: %#v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d\n got: %#v\nwant: %#v", i, got[i], want[i])
		}
		if got[i].Time.Location() != time.UTC {
			t.Errorf("record %d: time %v is not UTC", i, got[i].Time)
		}
	}
	if n := PointCount(md); n != len(want) {
		t.Errorf("PointCount = %d, want %d", n, len(want))
	}
	// the records of one series share one *Series; other series have their own
	for _, p := range [][2]int{{1, 2}, {0, 1}, {2, 3}, {4, 5}, {4, 6}, {7, 8}} {
		if same, want := got[p[0]].Series == got[p[1]].Series, p == [2]int{1, 2}; same != want {
			t.Errorf("records %d and %d share a series: %v, want %v", p[0], p[1], same, want)
		}
	}
}

func TestFromMetricsStopsAtError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	err := FromMetrics("prod", "hm", testMetrics(), func(Record) error {
		n++
		if n == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("FromMetrics returned %v after %d records, want boom after 2", err, n)
	}
}

func TestFromMetricsEmpty(t *testing.T) {
	if got := AppendFromMetrics(nil, "prod", "hm", pmetric.NewMetrics()); len(got) != 0 {
		t.Errorf("empty metrics gave %d records", len(got))
	}
}

// The converter's ids are PointID's, for series met for the first time and again, in any order,
// at any time.
func TestConverterIDsArePointIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type series struct {
		name   string
		sorted []pair
		asMap  map[string]string
	}
	var pool []series
	for i := range 12 {
		attrs := pcommon.NewMap()
		for j := range rng.IntN(6) {
			attrs.PutStr(fmt.Sprintf("k%d", rng.IntN(10)), fmt.Sprintf("v%d-%d", i, j))
		}
		asMap := map[string]string{}
		for k, v := range attrs.All() {
			asMap[k] = v.AsString()
		}
		pool = append(pool, series{fmt.Sprintf("m%d", rng.IntN(3)), sortedPairs(nil, attrs), asMap})
	}
	c := converter{tenant: "t", monitor: "hm"}
	for range 2000 {
		s := pool[rng.IntN(min(len(pool), 2+rng.IntN(len(pool))))] // a few series often, all now and then
		at := time.Unix(rng.Int64N(1<<33), rng.Int64N(1e9)).In(time.FixedZone("x", 3600))
		c.merged = s.sorted
		if got, want := c.known[c.seriesAt(KindMetric, s.name, "", false)].s.PointID(at), PointID("t", "hm", s.name, s.asMap, at); got != want {
			t.Fatalf("id of (%v, %v, %v) = %s, PointID = %s", s.name, s.asMap, at, got, want)
		}
	}
}

func TestFromMetricsRepeatedAttributeLastWins(t *testing.T) {
	// pcommon.Map refuses duplicates through Put*, but a decoded payload may carry them
	page := `{"resourceMetrics":[{"resource":{"attributes":[{"key":"a","value":{"stringValue":"r"}}]},
	"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"timeUnixNano":"1764065100000000000","asDouble":1,
	"attributes":[{"key":"b","value":{"stringValue":"x"}},{"key":"a","value":{"stringValue":"1"}},{"key":"a","value":{"stringValue":"2"}},{"key":"c","value":{"intValue":"3"}}]}]}}]}]}]}`
	md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics([]byte(page))
	if err != nil {
		t.Fatal(err)
	}
	got := AppendFromMetrics(nil, "t", "hm", md)
	want := map[string]string{"a": "2", "b": "x", "c": "3"}
	if len(got) != 1 || !reflect.DeepEqual(got[0].AttrMap(), want) || got[0].ID != PointID("t", "hm", "m", want, got[0].Time) {
		t.Errorf("got %#v, want attributes %v and their point id", got, want)
	}
}

// The measures of one data point's series are series of their own that share the attributes'
// memory (Series.sibling): a span of a large landscape holds thousands of them.
func TestSeriesOfOneDataPointShareAttributes(t *testing.T) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("serviceId", "svc-1")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	for _, name := range []string{"value", "usage"} {
		m := ms.AppendEmpty()
		m.SetName(name)
		g := m.SetEmptyGauge()
		for i := range 2 {
			dp := g.DataPoints().AppendEmpty()
			dp.Attributes().PutStr("metricName", []string{"CPU", "MEM"}[i])
			dp.SetDoubleValue(1)
		}
	}
	var got []Record
	if err := FromMetrics("t", "hm", md, func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("%d records, want 4", len(got))
	}
	for _, pair := range [][2]int{{0, 2}, {1, 3}} { // value and usage of CPU, of MEM
		a, b := got[pair[0]], got[pair[1]]
		if a.Series == b.Series || a.Name() == b.Name() {
			t.Fatalf("records %d and %d: one series, want two measures", pair[0], pair[1])
		}
		if !reflect.DeepEqual(a.AttrMap(), b.AttrMap()) || &a.attrs[0] != &b.attrs[0] || &a.json[0] != &b.json[0] {
			t.Errorf("%s and %s of %v do not share their attributes", a.Name(), b.Name(), a.AttrMap())
		}
		if a.ID != PointID("t", "hm", a.Name(), a.AttrMap(), a.Time) || b.ID != PointID("t", "hm", b.Name(), b.AttrMap(), b.Time) {
			t.Errorf("ids of shared series are not their PointIDs")
		}
	}
	if &got[0].attrs[0] == &got[1].attrs[0] {
		t.Errorf("CPU and MEM share attributes: %v, %v", got[0].AttrMap(), got[1].AttrMap())
	}
}

// AppendFromMetrics (tests and benchmarks) appends the records of FromMetrics to dst and returns the extended slice.
func AppendFromMetrics(dst []Record, tenant, monitor string, md pmetric.Metrics) []Record {
	_ = FromMetrics(tenant, monitor, md, func(r Record) error {
		dst = append(dst, r)
		return nil
	})
	return dst
}
