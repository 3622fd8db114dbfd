package calm

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// DefaultResolution is the bucket size asked for when MetricsQuery.Resolution is empty.
const DefaultResolution = "5Mi"

// MetricsQuery is one window of one provider's raw-data metrics.
type MetricsQuery struct {
	Provider    string    // hm, rum, jam, ...
	From, To    time.Time // [from, to) UTC
	Resolution  string    // 5Mi default
	Dimensions  []string  // optional
	Metrics     []string  // optional, e.g. "measure:value"
	ServiceIDs  []string  // optional (rum: at most 5, comma-separated)
	ServiceType string    // optional
	PageSize    int       // 0 = client default
}

// MetricsPage is one page of the paged series; Points counts the data points in it (gauge,
// sum, histogram, exponential histogram, summary). Total is x-total-count, -1 when the server
// did not send it. Bytes is the size of the page's body.
type MetricsPage struct {
	Metrics pmetric.Metrics
	Offset  int
	Points  int
	Total   int
	Bytes   int
}

// Metrics pages through GET /api/calm-metrics/v1/metrics (version=V1, provider, from, to,
// resolution, format=protobuf-json, preserveTimeStamp=true, limit, offset, onLimit=TRUNCATE,
// and dimensions, metrics, serviceId, serviceType when set) using limit/offset +
// x-total-count, guarded against repeats and endless servers. Each page is OTLP JSON decoded
// with pdata.
func (c *Client) Metrics(ctx context.Context, q MetricsQuery) iter.Seq2[MetricsPage, error] {
	limit := q.PageSize
	if limit <= 0 {
		limit = c.opt.PageSize
	}
	res := q.Resolution
	if res == "" {
		res = DefaultResolution
	}
	what := fmt.Sprintf("metrics %s %s–%s", q.Provider, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	if q.Provider == "" || !q.To.After(q.From) {
		return func(yield func(MetricsPage, error) bool) {
			yield(MetricsPage{}, fmt.Errorf("%s: provider must be set and to after from", what))
		}
	}
	var unmarshaler pmetric.JSONUnmarshaler
	fetch := func(ctx context.Context, offset int) (page[MetricsPage], error) {
		qv := url.Values{
			"version":           {"V1"},
			"provider":          {q.Provider},
			"from":              {q.From.UTC().Format(TimeLayout)},
			"to":                {q.To.UTC().Format(TimeLayout)},
			"resolution":        {res},
			"format":            {"protobuf-json"},
			"preserveTimeStamp": {"true"},
			"limit":             {strconv.Itoa(limit)},
			"offset":            {strconv.Itoa(offset)},
			"onLimit":           {"TRUNCATE"},
		}
		if len(q.Dimensions) > 0 {
			qv.Set("dimensions", strings.Join(q.Dimensions, ","))
		}
		if len(q.Metrics) > 0 {
			qv.Set("metrics", strings.Join(q.Metrics, ","))
		}
		if len(q.ServiceIDs) > 0 {
			qv.Set("serviceId", strings.Join(q.ServiceIDs, ","))
		}
		if q.ServiceType != "" {
			qv.Set("serviceType", q.ServiceType)
		}
		req, err := c.newRequest(ctx, http.MethodGet, "calm-metrics/v1/metrics", qv, nil)
		if err != nil {
			return page[MetricsPage]{}, err
		}
		resp, err := c.do(req, nil)
		if err != nil {
			return page[MetricsPage]{}, err
		}
		md := pmetric.NewMetrics()
		if len(strings.TrimSpace(string(resp.body))) > 0 {
			md, err = unmarshaler.UnmarshalMetrics(resp.body)
			if err != nil {
				return page[MetricsPage]{}, fmt.Errorf("decode OTLP JSON: %w", err)
			}
		}
		n := md.DataPointCount()
		mp := MetricsPage{Metrics: md, Offset: offset, Points: n, Total: totalCount(resp), Bytes: len(resp.body)}
		return page[MetricsPage]{items: []MetricsPage{mp}, count: n, total: mp.Total, hash: bodyHash(resp.body), bytes: len(resp.body)}, nil
	}
	return flatten(paginate(ctx, c.logger, what, limit, c.maxPages, fetch))
}
