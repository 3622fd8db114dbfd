package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The analytics data endpoint, POST /api/calm-analytics/v1/analytics/providers/data, in the
// time_series form SAP's Grafana plugin reads: one list of series per query, each series
// {serieName, attributes:[{key,value}], dataPoints:[[value, unixMillis]]}. Values are drawn
// deterministically from the provider, measure, series and bucket (ExpectedAnalytics).

// AnalyticsRequest is the body the simulator reads.
type AnalyticsRequest struct {
	Format          string            `json:"format"`
	TimestampFormat string            `json:"timestampFormat"`
	TimeRange       map[string]string `json:"timeRange"`
	Resolution      string            `json:"resolution"`
	Timezone        string            `json:"timezone"`
	Queries         []AnalyticsQuery  `json:"queries"`
}

// AnalyticsQuery is one query of an AnalyticsRequest.
type AnalyticsQuery struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	Version  string `json:"version"`
	Columns  struct {
		Dimensions []string `json:"dimensions"`
		Metrics    []struct {
			Measure string `json:"measure"`
			Method  string `json:"method"`
		} `json:"metrics"`
	} `json:"columns"`
	Filters []AnalyticsFilter `json:"filters"`
}

// AnalyticsFilter keeps the values of one dimension.
type AnalyticsFilter struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// AnalyticsPoint is one value the analytics data endpoint serves.
type AnalyticsPoint struct {
	Measure    string
	Attributes map[string]string
	Time       time.Time
	Value      float64
}

type analyticsSeries struct {
	SerieName  string           `json:"serieName"`
	Attributes []analyticsAttr  `json:"attributes"`
	DataPoints [][2]json.Number `json:"dataPoints"`
}

type analyticsAttr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// analyticsScopes are the scopes of the analytics-only providers, besides calm-api.analytics.read.
var analyticsScopes = map[string]string{
	"KPI_HISTORY_TOTALS": ScopeBM, "DP_JOB_MONITORING": ScopeJAM, "CCDB_STORE_DATA": ScopeCSA, "EVENTS": ScopeIEP,
}

// analyticsMethods are the aggregation methods a measure may name.
var analyticsMethods = []string{"AVG", "MIN", "MAX", "SUM", "PERCENT"}

func (s *Server) handleAnalyticsData(w http.ResponseWriter, r *http.Request) {
	tok := tokenFrom(r.Context())
	var body AnalyticsRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		badParam("the body must be JSON like {\"format\":\"time_series\",\"timeRange\":{…},\"queries\":[…]}").write(w)
		return
	}
	from, to, res, bad := s.analyticsRange(body)
	if bad != nil {
		bad.write(w)
		return
	}
	out := make([][]analyticsSeries, 0, len(body.Queries))
	for i, q := range body.Queries {
		if bad := s.checkAnalyticsQuery(q, i); bad != nil {
			bad.write(w)
			return
		}
		if sc, ok := analyticsScopes[q.Provider]; ok && !s.hasScope(tok.claims, sc, tok.faults) {
			writeError(w, http.StatusForbidden, "Forbidden", "Missing scope "+sc)
			return
		}
		out = append(out, s.analyticsSeriesOf(q, from, to, res))
	}
	writeJSON(w, http.StatusOK, out)
}

// analyticsRange reads the time range and resolution of a request.
func (s *Server) analyticsRange(body AnalyticsRequest) (from, to time.Time, res time.Duration, bad *badRequest) {
	if !strings.EqualFold(body.Format, "time_series") {
		return from, to, 0, badParam("format %q is not served here; use time_series", body.Format)
	}
	if body.TimestampFormat != "unix" {
		return from, to, 0, badParam("timestampFormat %q is not served here; use unix", body.TimestampFormat)
	}
	if body.Timezone != "" && body.Timezone != "+00:00" {
		return from, to, 0, badParam("timezone %q is not served here; use +00:00", body.Timezone)
	}
	var err error
	if from, err = time.Parse(TimeLayout, body.TimeRange["from"]); err != nil {
		return from, to, 0, badParam("timeRange.from %q is not yyyyMMddHHmmss", body.TimeRange["from"])
	}
	if to, err = time.Parse(TimeLayout, body.TimeRange["to"]); err != nil || !to.After(from) {
		return from, to, 0, badParam("timeRange.to %q is not yyyyMMddHHmmss after from", body.TimeRange["to"])
	}
	res, bad = parseResolution(body.Resolution)
	if bad == nil && to.Sub(from)/res > maxBuckets {
		bad = badParam("the time range holds more than %d buckets of %s", maxBuckets, body.Resolution)
	}
	return from, to, res, bad
}

func (s *Server) checkAnalyticsQuery(q AnalyticsQuery, i int) *badRequest {
	switch {
	case s.Filters(q.Provider) == nil:
		return &badRequest{http.StatusNotFound, "Not Found", fmt.Sprintf("queries[%d]: provider %q not found", i, q.Provider)}
	case len(q.Columns.Dimensions) == 0 || len(q.Columns.Metrics) == 0:
		return badParam("queries[%d]: columns need dimensions and metrics", i)
	case len(q.Columns.Metrics) > 1:
		// SAP's material does not say how a series tells its measure: one per query keeps it plain.
		return badParam("queries[%d]: the simulator serves one measure per query", i)
	}
	for _, m := range q.Columns.Metrics {
		if m.Method != "" && !slices.Contains(analyticsMethods, m.Method) {
			return badParam("queries[%d]: method %q is not one of %s", i, m.Method, strings.Join(analyticsMethods, ", "))
		}
	}
	return nil
}

// ExpectedAnalytics returns the points the data endpoint serves for one query over [from, to)
// at resolution res, as of the simulator's clock.
func (s *Server) ExpectedAnalytics(q AnalyticsQuery, from, to time.Time, res time.Duration) []AnalyticsPoint {
	var out []AnalyticsPoint
	for _, se := range s.analyticsSeriesOf(q, from, to, res) {
		attrs := map[string]string{}
		for _, a := range se.Attributes {
			attrs[a.Key] = a.Value
		}
		for _, dp := range se.DataPoints {
			v, _ := dp[0].Float64()
			ms, _ := dp[1].Int64()
			out = append(out, AnalyticsPoint{Measure: q.Columns.Metrics[0].Measure, Attributes: attrs, Time: time.UnixMilli(ms).UTC(), Value: v})
		}
	}
	return out
}

// analyticsSeriesOf draws the series of one query: two per service (variants 0 and 1), kept
// when they pass the filters; a bucket is served once complete (its end not after now), and
// one bucket in seven of a series has no value.
func (s *Server) analyticsSeriesOf(q AnalyticsQuery, from, to time.Time, res time.Duration) []analyticsSeries {
	now := s.now()
	var out []analyticsSeries
	for _, svc := range s.services {
		for k := range 2 {
			attrs := analyticsAttrs(svc, k, q)
			if !passes(attrs, q.Filters) {
				continue
			}
			se := analyticsSeries{SerieName: q.Name, Attributes: []analyticsAttr{}}
			for _, d := range q.Columns.Dimensions {
				se.Attributes = append(se.Attributes, analyticsAttr{Key: d, Value: attrs[d]})
			}
			m := q.Columns.Metrics[0].Measure
			for t := from.Truncate(res); t.Before(to); t = t.Add(res) {
				if t.Before(from) || t.Add(res).After(now) {
					continue
				}
				h := hash("analytics", q.Provider, m, svc.ID, k, t)
				if h%7 == 0 {
					continue
				}
				v := math.Round(float64(h%100000)) / 100
				se.DataPoints = append(se.DataPoints, [2]json.Number{json.Number(fmt.Sprint(v)), json.Number(fmt.Sprint(t.UnixMilli()))})
			}
			out = append(out, se)
		}
	}
	return out
}

// analyticsAttrs are a series' values of every dimension a query names or filters on.
func analyticsAttrs(svc service, k int, q AnalyticsQuery) map[string]string {
	attrs := map[string]string{}
	dims := slices.Clone(q.Columns.Dimensions)
	for _, f := range q.Filters {
		dims = append(dims, f.Key)
	}
	for _, d := range dims {
		switch d {
		case "serviceId":
			attrs[d] = svc.ID
		case "serviceName":
			attrs[d] = svc.Name
		case "serviceType":
			attrs[d] = svc.Type
		default:
			if pool := pools[d]; len(pool) > 0 {
				attrs[d] = pool[int(hash(d, svc.ID, k)%uint64(len(pool)))]
			} else {
				attrs[d] = fmt.Sprintf("%s-%d", d, k)
			}
		}
	}
	return attrs
}

func passes(attrs map[string]string, filters []AnalyticsFilter) bool {
	for _, f := range filters {
		if !slices.Contains(f.Values, attrs[f.Key]) {
			return false
		}
	}
	return true
}
