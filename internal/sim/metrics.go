package sim

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// TimeLayout is the yyyyMMddHHmmss UTC format of from, to, startTime and endTime
// (unconfirmed for the real API, docs/design.md §1.3).
const TimeLayout = "20060102150405"

// maxBuckets bounds the work of one metrics request.
const maxBuckets = 20000

var resolutions = []struct {
	param string
	d     time.Duration
}{
	{"1Mi", time.Minute}, {"5Mi", 5 * time.Minute}, {"10Mi", 10 * time.Minute}, {"15Mi", 15 * time.Minute},
	{"30Mi", 30 * time.Minute}, {"H", time.Hour}, {"D", 24 * time.Hour},
}

// ResolutionParam returns the metrics API name of a bucket size ("5Mi" for 5m).
func ResolutionParam(d time.Duration) (string, bool) {
	for _, r := range resolutions {
		if r.d == d {
			return r.param, true
		}
	}
	return "", false
}

func parseResolution(v string) (time.Duration, *badRequest) {
	if v == "" {
		return 5 * time.Minute, nil
	}
	for _, r := range resolutions {
		if r.param == v {
			return r.d, nil
		}
	}
	return 0, badParam("parameter resolution %q is not one of 1Mi, 5Mi, 10Mi, 15Mi, 30Mi, H, D", v)
}

// Query selects simulated metrics, like the metrics API parameters do.
type Query struct {
	Provider    string
	From, To    time.Time     // [From, To)
	Resolution  time.Duration // default 5m
	ServiceIDs  []string      // empty: every service
	ServiceType string        // empty: every type
	Measures    []string      // measure names ("value", not "measure:value"); empty: all
	Dimensions  []string      // empty: all; else points are aggregated over the other dimensions
	Prefix      string        // metric names become "<prefix>.<measure>" (unconfirmed)
}

// Point is one simulated data point.
type Point struct {
	// Metric is the OTLP metric name: the measure, or under strict naming the series'
	// metricName (strict.go). Measure is the measure; a metric not named after it carries it
	// as its description.
	Metric     string
	Measure    string
	Unit       string
	Sum        bool              // a delta, monotonic int sum (counts); else a double gauge
	Resource   map[string]string // resource attributes
	Attributes map[string]string // data-point attributes
	Time       time.Time         // bucket start
	Value      float64

	svc, measure, series int
}

// Merged returns resource attributes overlaid with data-point attributes.
func (p Point) Merged() map[string]string {
	out := make(map[string]string, len(p.Resource)+len(p.Attributes))
	maps.Copy(out, p.Resource)
	maps.Copy(out, p.Attributes)
	return out
}

// Expected returns every data point the metrics API serves for provider in [from, to) at
// resolution, for all services, as of the simulator's clock now. Points of completed
// buckets never change. It panics on a query the API would refuse (unknown provider, bad
// resolution, empty window): use ExpectedQuery to get the error.
func (s *Server) Expected(provider string, from, to time.Time, resolution time.Duration) []Point {
	pts, err := s.ExpectedQuery(Query{Provider: provider, From: from, To: to, Resolution: resolution})
	if err != nil {
		panic(fmt.Sprintf("sim.Expected: %v", err))
	}
	return pts
}

// ExpectedQuery is Expected with the filters of the metrics API.
func (s *Server) ExpectedQuery(q Query) ([]Point, error) {
	pts, bad := s.points(q, s.now())
	if bad != nil {
		return nil, bad
	}
	return pts, nil
}

// ExpectedMetrics is ExpectedQuery as the OTLP metrics the API would send unpaged.
func (s *Server) ExpectedMetrics(q Query) (pmetric.Metrics, error) {
	pts, err := s.ExpectedQuery(q)
	if err != nil {
		return pmetric.NewMetrics(), err
	}
	return buildMetrics(lookupProvider(q.Provider), pts), nil
}

// points generates the ordered, flat list of data points of a query: by service, measure,
// series, time. Only complete buckets (t + resolution <= now) exist.
func (s *Server) points(q Query, now time.Time) ([]Point, *badRequest) {
	p, res, measures, bad := checkQuery(q)
	if bad != nil {
		return nil, bad
	}
	now = now.Add(-s.cfg.Behaviours.LateBuckets) // late-buckets: a bucket is served that much after it closes
	ids := slices.Compact(slices.Sorted(slices.Values(q.ServiceIDs)))
	if p.id == "rum" && len(ids) > rumMaxServices {
		return nil, badParam("at most %d serviceId values are allowed for provider rum, got %d", rumMaxServices, len(ids))
	}
	var svcs []int
	for i, svc := range s.services {
		if len(ids) > 0 && !slices.Contains(ids, svc.ID) || q.ServiceType != "" && q.ServiceType != svc.Type {
			continue
		}
		svcs = append(svcs, i)
	}
	first := q.From.UTC().Truncate(res)
	if first.Before(q.From) {
		first = first.Add(res)
	}
	var pts []Point
	if p.id == "bsm" {
		pts = s.bsmPoints(p, svcs, measures, first, q.To, res, now)
		sortPoints(pts, measures)
	} else {
		// Emitted directly in API order: service, measure, series, time.
		for _, si := range svcs {
			pts = s.servicePoints(pts, p, si, measures, first, q.To, res, now)
		}
	}
	if len(q.Dimensions) > 0 {
		pts = aggregate(pts, q.Dimensions)
	}
	if s.cfg.Strict {
		nameByMetricName(pts)
	}
	if q.Prefix != "" {
		for i := range pts {
			pts[i].Metric = q.Prefix + "." + pts[i].Metric
		}
	}
	return pts, nil
}

// checkQuery refuses a query the API would refuse (unknown provider, measure or dimension, bad
// resolution, empty or too long window) and returns its provider, resolution and measures (by
// index, in the order asked for; all when none is asked for).
func checkQuery(q Query) (*provider, time.Duration, []int, *badRequest) {
	p := lookupProvider(q.Provider)
	if p == nil {
		return nil, 0, nil, badParam("unknown provider %q; known providers: %s", q.Provider, strings.Join(ProviderIDs(), ", "))
	}
	res := cmp.Or(q.Resolution, 5*time.Minute)
	if _, ok := ResolutionParam(res); !ok {
		return nil, 0, nil, badParam("resolution %s is not one of 1m, 5m, 10m, 15m, 30m, 1h, 24h", res)
	}
	if !q.From.Before(q.To) {
		return nil, 0, nil, badParam("from (%s) must be before to (%s)", q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	}
	if q.To.Sub(q.From)/res > maxBuckets {
		return nil, 0, nil, badParam("the window from %s to %s has more than %d buckets of %s; ask for a shorter window",
			q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout), maxBuckets, res)
	}
	measures := make([]int, 0, len(p.measures))
	if len(q.Measures) == 0 {
		for i := range p.measures {
			measures = append(measures, i)
		}
	}
	for _, name := range q.Measures {
		i := p.measure(name)
		if i < 0 {
			return nil, 0, nil, badParam("unknown measure %q for provider %s", name, p.id)
		}
		if !slices.Contains(measures, i) {
			measures = append(measures, i)
		}
	}
	for _, d := range q.Dimensions {
		if !slices.Contains(p.dimensions(), d) {
			return nil, 0, nil, badParam("unknown dimension %q for provider %s; known: %s", d, p.id, strings.Join(p.dimensions(), ", "))
		}
	}
	return p, res, measures, nil
}

// servicePoints appends the points of service si to pts in API order (measure, series, time):
// every complete bucket in [first, to) in which a series has a row.
func (s *Server) servicePoints(pts []Point, p *provider, si int, measures []int, first, to time.Time, res time.Duration, now time.Time) []Point {
	svc := s.services[si]
	resource := map[string]string{}
	for _, d := range p.resourceDims {
		resource[d] = serviceValue(svc, d)
	}
	series := make([]map[string]string, p.variants)
	for v := range series {
		series[v] = map[string]string{}
		for _, d := range p.pointDims {
			series[v][d] = pointValue(svc, d, v)
		}
	}
	// The rows (buckets in which a series has data) are shared by all measures.
	type row struct {
		t time.Time
		h uint64
	}
	rows := make([][]row, p.variants)
	for v := range rows {
		for t := first; t.Before(to) && !t.Add(res).After(now); t = t.Add(res) {
			if h := hash(p.id, svc.ID, v, t, res); h%100 < p.presence {
				rows[v] = append(rows[v], row{t, h})
			}
		}
	}
	for _, mi := range measures {
		m := p.measures[mi]
		for v, attrs := range series {
			for _, r := range rows[v] {
				pts = append(pts, Point{
					Metric: m.name, Measure: m.name, Unit: m.unit, Sum: m.kind == count, Resource: resource, Attributes: attrs,
					Time: r.t, Value: m.gen(r.h, hash(r.h, m.name)), svc: si, measure: mi, series: v,
				})
			}
		}
	}
	return pts
}

// aggregate keeps only the dimensions asked for: points that become equal are summed
// (counts) or averaged (gauges), in the order of their first occurrence.
func aggregate(pts []Point, dims []string) []Point {
	project := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for _, d := range dims {
			if v, ok := m[d]; ok {
				out[d] = v
			}
		}
		return out
	}
	type acc struct {
		i int
		n float64
	}
	index := map[string]*acc{}
	var out []Point
	for _, p := range pts {
		res, attrs := project(p.Resource), project(p.Attributes)
		key := fmt.Sprint(p.Metric, res, attrs, p.Time.UnixNano())
		if a, ok := index[key]; ok {
			out[a.i].Value += p.Value
			a.n++
			continue
		}
		index[key] = &acc{i: len(out), n: 1}
		p.Resource, p.Attributes = res, attrs
		out = append(out, p)
	}
	for _, a := range index {
		// An average of merged gauges, to two decimals; a single point stays as it is.
		if !out[a.i].Sum && a.n > 1 {
			out[a.i].Value = math.Round(out[a.i].Value/a.n*100) / 100
		}
	}
	return out
}

// buildMetrics turns ordered points into OTLP: one ResourceMetrics per run of points with
// the same resource, one Metric per run of the same measure.
func buildMetrics(p *provider, pts []Point) pmetric.Metrics {
	md := pmetric.NewMetrics()
	var (
		sm        pmetric.ScopeMetrics
		m         pmetric.Metric
		lastRes   string
		lastM     string
		haveScope bool
	)
	for _, pt := range pts {
		rk := fmt.Sprint(pt.Resource)
		if !haveScope || rk != lastRes {
			rm := md.ResourceMetrics().AppendEmpty()
			putAttrs(rm.Resource().Attributes(), p.resourceDims, pt.Resource)
			sm = rm.ScopeMetrics().AppendEmpty()
			sm.Scope().SetName("sap.calm." + p.id)
			sm.Scope().SetVersion("v1")
			haveScope, lastRes, lastM = true, rk, ""
		}
		if pt.Metric+"\x00"+pt.Measure != lastM {
			m = sm.Metrics().AppendEmpty()
			m.SetName(pt.Metric)
			if pt.Metric != pt.Measure {
				m.SetDescription(pt.Measure)
			}
			m.SetUnit(pt.Unit)
			if pt.Sum {
				sum := m.SetEmptySum()
				sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
				sum.SetIsMonotonic(true)
			} else {
				m.SetEmptyGauge()
			}
			lastM = pt.Metric + "\x00" + pt.Measure
		}
		ts := pcommon.NewTimestampFromTime(pt.Time)
		var dp pmetric.NumberDataPoint
		if pt.Sum {
			dp = m.Sum().DataPoints().AppendEmpty()
			dp.SetStartTimestamp(ts)
			dp.SetIntValue(int64(pt.Value))
		} else {
			dp = m.Gauge().DataPoints().AppendEmpty()
			dp.SetDoubleValue(pt.Value)
		}
		dp.SetTimestamp(ts)
		putAttrs(dp.Attributes(), p.pointDims, pt.Attributes)
	}
	return md
}

// putAttrs puts attributes in the provider's dimension order, so bytes are deterministic.
func putAttrs(dst pcommon.Map, order []string, m map[string]string) {
	for _, k := range order {
		if v, ok := m[k]; ok {
			dst.PutStr(k, v)
		}
	}
}
