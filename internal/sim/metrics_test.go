package sim

import (
	"bytes"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// window is the last two complete hours before t0 plus the running bucket and beyond.
var (
	wFrom = t0.Add(-2 * time.Hour).Truncate(time.Hour)
	wTo   = t0.Add(time.Hour)
)

func TestMetricsEveryProvider(t *testing.T) {
	want := []string{"hm", "rum", "jam", "exm", "iep", "sum", "bsm", "cpi", "aif", "idoc", "ws", "sf", "c4c",
		"concur", "fg", "mdi", "mobsrv", "aribacig", "aribanet", "aribaproc", "aribasrc"}
	if got := ProviderIDs(); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Fatalf("providers %v, want %v", got, want)
	}
	s, _ := start(t, Config{})
	tok := token(t, s)
	// rum allows five services per query.
	five := strings.Join(s.ServiceIDs()[:5], ",")
	for _, id := range want {
		q := metricsQuery(id, wFrom, wTo)
		if id == "rum" {
			q.Set("serviceId", five)
		}
		r := get(t, s, tok, metricsPath, q)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %v", id, r)
		}
		md := decodeMetrics(t, r.body)
		got := flatten(md)
		if len(got) == 0 {
			t.Errorf("%s: no points in two hours", id)
			continue
		}
		if total, _ := strconv.Atoi(r.header.Get("x-total-count")); total != len(got) {
			t.Errorf("%s: x-total-count %d, points %d", id, total, len(got))
		}
		eq := Query{Provider: id, From: wFrom, To: wTo}
		if id == "rum" {
			eq.ServiceIDs = s.ServiceIDs()[:5]
		}
		exp, err := s.ExpectedQuery(eq)
		if err != nil {
			t.Fatal(err)
		}
		equalFlat(t, id, got, flattenPoints(exp))
		p := lookupProvider(id)
		dims := p.dimensions()
		names := map[string]bool{}
		for _, f := range got {
			names[f.name] = true
			if !f.time.Before(wTo) || f.time.Before(wFrom) || f.time.Add(5*time.Minute).After(t0) || !f.time.Equal(f.time.Truncate(5*time.Minute)) {
				t.Errorf("%s: point at %s outside [from, now) or not aligned", id, f.time)
			}
			keys := attrKeys(f.attrs)
			if !slices.Equal(keys, slices.Sorted(slices.Values(dims))) {
				t.Errorf("%s: attributes %v, want the dimensions %v", id, keys, dims)
				break
			}
		}
		for _, m := range p.measures {
			if !names[m.name] {
				t.Errorf("%s: measure %s never served", id, m.name)
			}
		}
		// counts are delta sums, the rest gauges.
		for _, rm := range md.ResourceMetrics().All() {
			for _, m := range rm.ScopeMetrics().At(0).Metrics().All() {
				wantSum := p.measures[p.measure(m.Name())].kind == count
				if (m.Type() == pmetric.MetricTypeSum) != wantSum {
					t.Errorf("%s: %s is %s", id, m.Name(), m.Type())
				}
				if wantSum && m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
					t.Errorf("%s: %s temporality %s", id, m.Name(), m.Sum().AggregationTemporality())
				}
			}
		}
	}
}

func attrKeys(s string) []string {
	var out []string
	for _, kv := range strings.Split(strings.TrimSuffix(s, ","), ",") {
		out = append(out, strings.SplitN(kv, "=", 2)[0])
	}
	return out
}

func TestMetricsDeterministicAndImmutable(t *testing.T) {
	s1, clk := start(t, Config{})
	s2, _ := start(t, Config{Now: clk.Now})
	q := metricsQuery("jam", wFrom, wTo)
	a := get(t, s1, token(t, s1), metricsPath, q)
	b := get(t, s2, token(t, s2), metricsPath, q)
	if a.status != 200 || !bytes.Equal(a.body, b.body) {
		t.Fatalf("same window on two simulators differs:\n%.200s\n%.200s", a.body, b.body)
	}
	before := flatten(decodeMetrics(t, a.body))
	// An hour later the window holds more buckets, but what was served is unchanged.
	clk.Set(t0.Add(time.Hour))
	after := flatten(decodeMetrics(t, get(t, s1, token(t, s1), metricsPath, q).body))
	set := map[flat]bool{}
	for _, f := range after {
		set[f] = true
	}
	for _, f := range before {
		if !set[f] {
			t.Fatalf("point %v changed or vanished after time passed", f)
		}
	}
	if len(after) <= len(before) {
		t.Errorf("no new points after an hour (%d, %d)", len(before), len(after))
	}
}

func TestExpectedIgnoresTheCallersZone(t *testing.T) {
	s, _ := start(t, Config{})
	zone := time.FixedZone("X", 5*3600+1800)
	equalFlat(t, "zoned", flattenPoints(s.Expected("iep", wFrom.In(zone), wTo.In(zone), 5*time.Minute)),
		flattenPoints(s.Expected("iep", wFrom, wTo, 5*time.Minute)))
	a, b := s.ExpectedEvents(wFrom.Add(-48*time.Hour).In(zone), wTo.In(zone)), s.ExpectedEvents(wFrom.Add(-48*time.Hour), wTo)
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("events depend on the zone of the window (%d, %d)", len(a), len(b))
	}
}

func TestMetricsFutureWindowIsEmpty(t *testing.T) {
	s, _ := start(t, Config{})
	r := get(t, s, token(t, s), metricsPath, metricsQuery("hm", t0.Truncate(5*time.Minute), t0.Add(time.Hour)))
	if r.status != 200 || r.header.Get("x-total-count") != "0" {
		t.Fatalf("future window: %v total %s", r, r.header.Get("x-total-count"))
	}
	if md := decodeMetrics(t, r.body); md.DataPointCount() != 0 {
		t.Errorf("future window has %d points", md.DataPointCount())
	}
}

func TestMetricsSparseSeriesCanBeEmpty(t *testing.T) {
	s, _ := start(t, Config{Services: 1})
	empty := 0
	for i := range 48 {
		from := wFrom.Add(time.Duration(i) * 5 * time.Minute)
		if len(s.Expected("jam", from, from.Add(5*time.Minute), 5*time.Minute)) == 0 {
			empty++
		}
	}
	if empty == 0 || empty == 48 {
		t.Errorf("%d of 48 jam windows of one service are empty; want some, not all", empty)
	}
}

func TestMetricsPaging(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	for id, limit := range map[string]int{"hm": 97, "exm": 7, "bsm": 7} {
		q := metricsQuery(id, wFrom, wTo)
		all := flatten(decodeMetrics(t, get(t, s, tok, metricsPath, q).body))
		var paged []flat
		q.Set("limit", strconv.Itoa(limit))
		q.Set("onLimit", "TRUNCATE")
		for off := 0; off < len(all)+limit; off += limit {
			q.Set("offset", strconv.Itoa(off))
			r := get(t, s, tok, metricsPath, q)
			if got := r.header.Get("x-total-count"); got != strconv.Itoa(len(all)) {
				t.Fatalf("%s offset %d: x-total-count %s, want %d", id, off, got, len(all))
			}
			page := flatten(decodeMetrics(t, r.body))
			if len(page) > limit {
				t.Fatalf("%s: page of %d > limit", id, len(page))
			}
			paged = append(paged, page...)
		}
		equalFlat(t, id+" pages", paged, all)
	}
}

func TestMetricsParameters(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	cases := []struct {
		name   string
		edit   func(q url.Values)
		status int
		msg    string
	}{
		{"no provider", func(q url.Values) { q.Del("provider") }, 428, "provider"},
		{"unknown provider", func(q url.Values) { q.Set("provider", "xyz") }, 400, "unknown provider"},
		{"bad from", func(q url.Values) { q.Set("from", "2026-11-25T10:00:00Z") }, 400, "from"},
		{"only to", func(q url.Values) { q.Del("from") }, 400, "from"},
		{"from after to", func(q url.Values) { q.Set("from", wTo.Format(TimeLayout)); q.Set("to", wFrom.Format(TimeLayout)) }, 400, "before"},
		{"resolution", func(q url.Values) { q.Set("resolution", "7Mi") }, 400, "resolution"},
		{"measure", func(q url.Values) { q.Set("metrics", "measure:nope") }, 400, "nope"},
		{"dimension", func(q url.Values) { q.Set("dimensions", "nope") }, 400, "nope"},
		{"limit", func(q url.Values) { q.Set("limit", "-1") }, 400, "limit"},
		{"version", func(q url.Values) { q.Set("version", "V2") }, 400, "version"},
		{"format", func(q url.Values) { q.Set("format", "text") }, 400, "format"},
		{"rum six services", func(q url.Values) {
			q.Set("provider", "rum")
			q.Set("serviceId", strings.Join(s.ServiceIDs()[:3], ","))
			for _, id := range s.ServiceIDs()[3:] {
				q.Add("serviceId", id)
			}
		}, 400, "at most 5"},
	}
	for _, c := range cases {
		q := metricsQuery("hm", wFrom, wTo)
		c.edit(q)
		r := get(t, s, tok, metricsPath, q)
		if r.status != c.status || !strings.Contains(string(r.body), c.msg) || !strings.Contains(string(r.body), `"error"`) {
			t.Errorf("%s: %v, want %d mentioning %q", c.name, r, c.status, c.msg)
		}
	}
}

func TestMetricsFilters(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	ids := s.ServiceIDs()
	q := metricsQuery("hm", wFrom, wTo)
	q["serviceId"] = []string{ids[1], ids[3]}
	q.Set("metrics", "measure:value,measure:usage")
	got := flatten(decodeMetrics(t, get(t, s, tok, metricsPath, q).body))
	if len(got) == 0 {
		t.Fatal("no points")
	}
	for _, f := range got {
		if f.name != "value" && f.name != "usage" || !strings.Contains(f.attrs, ids[1]) && !strings.Contains(f.attrs, ids[3]) {
			t.Fatalf("point %v outside the filter", f)
		}
	}
	// Fewer dimensions aggregate: counts keep their total.
	all := s.Expected("exm", wFrom, wTo, 5*time.Minute)
	q = metricsQuery("exm", wFrom, wTo)
	q.Set("dimensions", "serviceId")
	agg := flatten(decodeMetrics(t, get(t, s, tok, metricsPath, q).body))
	var total, aggTotal float64
	for _, p := range all {
		total += p.Value
	}
	for _, f := range agg {
		aggTotal += f.value
		if keys := attrKeys(f.attrs); !slices.Equal(keys, []string{"serviceId"}) {
			t.Fatalf("aggregated point has %v", keys)
		}
	}
	if total != aggTotal || len(agg) >= len(all) {
		t.Errorf("aggregation: %d points sum %g, from %d points sum %g", len(agg), aggTotal, len(all), total)
	}
	// Hourly buckets and the binary format.
	q = metricsQuery("hm", wFrom, wTo)
	q.Set("resolution", "H")
	q.Set("format", "protobuf-binary")
	r := get(t, s, tok, metricsPath, q)
	md, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(r.body)
	if err != nil || r.header.Get("Content-Type") != "application/x-protobuf" {
		t.Fatalf("binary: %v %v", err, r.header)
	}
	equalFlat(t, "hourly", flatten(md), flattenPoints(s.Expected("hm", wFrom, wTo, time.Hour)))
	for _, f := range flatten(md) {
		if !f.time.Equal(f.time.Truncate(time.Hour)) {
			t.Fatalf("hourly point at %s", f.time)
		}
	}
}

func TestExpectedMetricsDecodesLikeTheAPI(t *testing.T) {
	s, _ := start(t, Config{})
	md, err := s.ExpectedMetrics(Query{Provider: "cpi", From: wFrom, To: wTo})
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&pmetric.JSONMarshaler{}).MarshalMetrics(md)
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, s, token(t, s), metricsPath, metricsQuery("cpi", wFrom, wTo))
	if !bytes.Equal(b, r.body) {
		t.Error("ExpectedMetrics differs from the unpaged API answer")
	}
}
