package calm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// AnalyticsQuery is one read of POST /api/calm-analytics/v1/analytics/providers/data in
// time_series form (SAP's Postman collection, folder "Data (REST)"; SAP's Grafana plugin).
type AnalyticsQuery struct {
	Provider   string // e.g. "KPI_HISTORY_TOTALS"
	Version    string // "" sends none
	Dimensions []string
	// Measures are asked for one query each, in this order, so that every series of the answer
	// is known to be of its query's measure.
	Measures []string
	Methods  map[string]string // measure → AVG, MIN, MAX, SUM or PERCENT (absent: the provider's)
	Filters  []AnalyticsFilter
	From, To time.Time // [From, To), sent as yyyyMMddHHmmss with timezone +00:00
	// Resolution is the bucket size, e.g. "5Mi", "H", "D".
	Resolution string
}

// AnalyticsFilter keeps the values of one dimension.
type AnalyticsFilter struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// AnalyticsPoint is one value of one series: the series' attributes (its dimensions) at Time.
type AnalyticsPoint struct {
	Measure    string
	Attributes map[string]string
	Time       time.Time
	Value      float64
}

type analyticsBody struct {
	Format          string            `json:"format"`
	TimestampFormat string            `json:"timestampFormat"`
	TimeRange       map[string]string `json:"timeRange"`
	Resolution      string            `json:"resolution"`
	Timezone        string            `json:"timezone"`
	Queries         []analyticsQuery  `json:"queries"`
}

type analyticsQuery struct {
	Name     string            `json:"name"`
	Provider string            `json:"provider"`
	Version  string            `json:"version,omitempty"`
	Columns  analyticsColumns  `json:"columns"`
	Filters  []AnalyticsFilter `json:"filters"`
}

type analyticsColumns struct {
	Dimensions []string          `json:"dimensions"`
	Metrics    []analyticsMetric `json:"metrics"`
}

type analyticsMetric struct {
	Measure string `json:"measure"`
	Method  string `json:"method,omitempty"`
}

// analyticsSeries is one series of a time_series answer, as SAP's Grafana plugin reads it.
type analyticsSeries struct {
	SerieName  string `json:"serieName"`
	Attributes []struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"attributes"`
	DataPoints [][2]json.RawMessage `json:"dataPoints"`
}

// AnalyticsData reads the data of q: one request, one query per measure. The answer is one
// list of series per query; every data point becomes an AnalyticsPoint. A 2xx answer that is
// not such a list (an error object, or fewer lists than queries) is an *APIError with NotData,
// retried by the caller's window like any failed read.
func (c *Client) AnalyticsData(ctx context.Context, q AnalyticsQuery) ([]AnalyticsPoint, error) {
	body := analyticsBody{Format: "time_series", TimestampFormat: "unix", Resolution: q.Resolution, Timezone: "+00:00",
		TimeRange: map[string]string{"from": q.From.UTC().Format(TimeLayout), "to": q.To.UTC().Format(TimeLayout)}}
	filters := q.Filters
	if filters == nil {
		filters = []AnalyticsFilter{}
	}
	for _, m := range q.Measures {
		body.Queries = append(body.Queries, analyticsQuery{Name: m, Provider: q.Provider, Version: q.Version, Filters: filters,
			Columns: analyticsColumns{Dimensions: q.Dimensions, Metrics: []analyticsMetric{{Measure: m, Method: q.Methods[m]}}}})
	}
	what := fmt.Sprintf("analytics %s %s–%s", q.Provider, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	req, err := c.newRequest(ctx, http.MethodPost, "calm-analytics/v1/analytics/providers/data", nil, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	resp, err := c.do(req, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var lists [][]analyticsSeries
	if err := json.Unmarshal(resp.body, &lists); err != nil || len(lists) != len(q.Measures) {
		return nil, fmt.Errorf("%s: %w", what, &APIError{StatusCode: http.StatusOK, Method: http.MethodPost, Path: c.apiPath(req),
			CorrelationID: correlationID(resp),
			NotData:       fmt.Sprintf("the answer is not one list of series per query (%d queries): %.200s", len(q.Measures), resp.body)})
	}
	var out []AnalyticsPoint
	for i, series := range lists {
		for _, s := range series {
			pts, err := seriesPoints(q.Measures[i], s)
			if err != nil {
				return nil, fmt.Errorf("%s: series %q: %w", what, s.SerieName, err)
			}
			out = append(out, pts...)
		}
	}
	return out, nil
}

// seriesPoints converts one series; a point without a value (null) is no point.
func seriesPoints(measure string, s analyticsSeries) ([]AnalyticsPoint, error) {
	attrs := make(map[string]string, len(s.Attributes))
	for _, a := range s.Attributes {
		attrs[a.Key] = jsonText(a.Value)
	}
	var out []AnalyticsPoint
	for _, dp := range s.DataPoints {
		if string(dp[0]) == "null" || len(dp[0]) == 0 {
			continue
		}
		v, err := jsonNumber(dp[0])
		if err != nil {
			return nil, fmt.Errorf("value %s: %w", dp[0], err)
		}
		ms, err := jsonNumber(dp[1])
		if err != nil || ms != math.Trunc(ms) {
			return nil, fmt.Errorf("time %s is not unix milliseconds", dp[1])
		}
		out = append(out, AnalyticsPoint{Measure: measure, Attributes: attrs, Time: time.UnixMilli(int64(ms)).UTC(), Value: v})
	}
	return out, nil
}

// jsonNumber reads a JSON number or a string holding one.
func jsonNumber(raw json.RawMessage) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strconv.ParseFloat(s, 64)
	}
	var f float64
	err := json.Unmarshal(raw, &f)
	return f, err
}

// jsonText is a JSON string's text, or any other JSON value as written.
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
