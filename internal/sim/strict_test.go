package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// strictGet asks until the answer is not the strict error body (asked again, a request is
// answered), failing after three tries.
func strictGet(t *testing.T, s *Server, tok string, q url.Values) resp {
	t.Helper()
	for range 3 {
		r := get(t, s, tok, metricsPath, q)
		var e struct{ Error string }
		if r.status != http.StatusOK || json.Unmarshal(r.body, &e) != nil || e.Error == "" {
			return r
		}
	}
	t.Fatalf("%s answered the error body three times", q.Encode())
	return resp{}
}

// The strict simulator names hm's OTLP metrics after the series' metricName, the measure in
// the description; every measure of a series is its own metric and no point is lost by it.
func TestStrictNamesMetricsByMetricName(t *testing.T) {
	s, _ := start(t, Config{Strict: true})
	tok := token(t, s)
	q := metricsQuery("hm", t0.Add(-time.Hour).Truncate(5*time.Minute), t0.Truncate(5*time.Minute))
	q.Set("dimensions", "serviceType,serviceName,serviceId,metricName,metricLabel")
	q.Set("metrics", "measure:value,measure:usage")
	q.Set("limit", "1000")
	perSeries := map[string]map[string]int{} // metricName → measure → points
	points := 0
	for offset, total := 0, 1; offset < total; offset += strictPageCap { // rows paging, capped pages
		q.Set("offset", strconv.Itoa(offset))
		r := strictGet(t, s, tok, q)
		if r.status != http.StatusOK {
			t.Fatalf("%s", r)
		}
		total, _ = strconv.Atoi(r.header.Get("x-total-count"))
		for _, rm := range decodeMetrics(t, r.body).ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					for _, dp := range m.Gauge().DataPoints().All() {
						mn, _ := dp.Attributes().Get("metricName")
						if m.Name() != mn.AsString() {
							t.Fatalf("metric %q holds a point of metricName %q", m.Name(), mn.AsString())
						}
						if perSeries[m.Name()] == nil {
							perSeries[m.Name()] = map[string]int{}
						}
						perSeries[m.Name()][m.Description()]++
						points++
					}
				}
			}
		}
	}
	want := s.Expected("hm", t0.Add(-time.Hour).Truncate(5*time.Minute), t0.Truncate(5*time.Minute), 5*time.Minute)
	if len(perSeries) != 3 || len(perSeries["CPU_UTILIZATION"]) != 2 || perSeries["CPU_UTILIZATION"]["value"] != perSeries["CPU_UTILIZATION"]["usage"] {
		t.Errorf("points by metric name and description: %v; want 3 names, each with value and usage alike", perSeries)
	}
	if points == 0 || points != 2*len(want)/5 {
		t.Errorf("%d points served, want %d (value and usage of %d expected points of 5 measures)", points, 2*len(want)/5, len(want))
	}
	for _, p := range want {
		if p.Metric != p.Attributes["metricName"] || p.Measure == "" || p.Measure == p.Metric {
			t.Fatalf("Expected point %+v: want Metric = its metricName and Measure the measure", p)
		}
	}
}

// Strict metrics calls need dimensions and metrics; a page holds at most strictPageCap rows.
func TestStrictRequiresColumnsAndCapsPages(t *testing.T) {
	s, _ := start(t, Config{Strict: true})
	tok := token(t, s)
	q := metricsQuery("jam", t0.Add(-2*time.Hour).Truncate(5*time.Minute), t0.Truncate(5*time.Minute))
	if r := get(t, s, tok, metricsPath, q); r.status != http.StatusPreconditionRequired {
		t.Errorf("without dimensions: %s, want 428", r)
	}
	q.Set("dimensions", "serviceId")
	if r := get(t, s, tok, metricsPath, q); r.status != http.StatusPreconditionRequired {
		t.Errorf("without metrics: %s, want 428", r)
	}
	q.Set("metrics", "measure:nosuch")
	if r := strictGet(t, s, tok, q); r.status != http.StatusBadRequest {
		t.Errorf("unknown measure: %s, want 400", r)
	}
	q.Del("dimensions")
	q.Set("dimensions", "serviceId,serviceName")
	q.Set("metrics", "measure:executions")
	q.Set("limit", "1000")
	r := strictGet(t, s, tok, q)
	total, _ := strconv.Atoi(r.header.Get("x-total-count"))
	if n := decodeMetrics(t, r.body).DataPointCount(); r.status != http.StatusOK || n != strictPageCap || total <= strictPageCap {
		t.Errorf("%d points of %d rows on a page asked with limit 1000 (HTTP %d), want the cap %d", n, total, r.status, strictPageCap)
	}
}
