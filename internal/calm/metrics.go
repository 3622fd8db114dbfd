package calm

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"math"
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
	ServiceIDs  []string  // optional (rum: at most 5, comma-separated unless RepeatServiceIDs)
	ServiceType string    // optional
	// RepeatServiceIDs sends each service id as a serviceId parameter of its own
	// (serviceId=a&serviceId=b) instead of one comma list, for a tenant that does not take the
	// list (docs/cloud-alm-api.md, "Service lists").
	RepeatServiceIDs bool
	// Period, when set, is sent instead of from and to (e.g. "L3H"), for a tenant that does not
	// honour them (docs/cloud-alm-api.md, "Time windows"). From and To still name the window
	// the caller keeps points of.
	Period   string
	PageSize int // 0 = client default
	// AllPages says the caller reads every page: the pager may then ask for the second page
	// while the first is decoded, as it does for every later page. Leave it false for a probe
	// that reads one page (it would cost a request more).
	AllPages bool
}

// periodMargin is how much further back PeriodCovering reaches: the tenant's clock may differ.
const periodMargin = 5 * time.Minute

// PeriodCovering is the metrics period counted back from now that covers from ("L3H"), for a
// tenant that does not honour from/to: whole hours, the unit of SAP's Postman collection (L1H).
func PeriodCovering(from, now time.Time) string {
	hours := int(math.Ceil((now.Sub(from) + periodMargin).Hours()))
	return fmt.Sprintf("L%dH", max(hours, 1))
}

// MetricsPage is one page of the paged series; Points counts the data points in it (gauge,
// sum, histogram, exponential histogram, summary). Total is x-total-count, -1 when the server
// did not send it. Bytes is the size of the page's body.
type MetricsPage struct {
	Metrics pmetric.Metrics
	Offset  int
	Points  int
	// Rows counts the page's rows: series (resource and data-point attributes) at one time,
	// whatever measures each carries.
	Rows  int
	Total int
	Bytes int
	// Limit is the page size asked for: a Total equal to it may be a result set cut at the
	// limit rather than paged (onLimit=TRUNCATE).
	Limit int
}

// metricsCall is one request of a metrics series in the given format, begun (Client.begin).
func (c *Client) metricsCall(ctx context.Context, q MetricsQuery, res string, limit, offset int, format string) (*reply, error) {
	qv := url.Values{
		"version":           {"V1"},
		"provider":          {q.Provider},
		"resolution":        {res},
		"format":            {format},
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
	if q.Period != "" {
		qv.Set("period", q.Period)
	} else {
		qv.Set("from", q.From.UTC().Format(TimeLayout))
		qv.Set("to", q.To.UTC().Format(TimeLayout))
	}
	switch {
	case len(q.ServiceIDs) > 0 && q.RepeatServiceIDs:
		qv["serviceId"] = q.ServiceIDs
	case len(q.ServiceIDs) > 0:
		qv.Set("serviceId", strings.Join(q.ServiceIDs, ","))
	}
	if q.ServiceType != "" {
		qv.Set("serviceType", q.ServiceType)
	}
	req, err := c.newRequest(ctx, http.MethodGet, "calm-metrics/v1/metrics", qv, nil)
	if err != nil {
		return nil, err
	}
	req.shape = shapeMetrics
	if format == FormatBinary {
		req.accepts = "application/x-protobuf, application/json;q=0.5"
	}
	return c.begin(req)
}

// Metrics pages through GET /api/calm-metrics/v1/metrics (version=V1, provider, from, to,
// resolution, format, preserveTimeStamp=true, limit, offset, onLimit=TRUNCATE,
// and dimensions, metrics, serviceId, serviceType when set) using limit/offset +
// x-total-count, guarded against repeats and endless servers. format is protobuf-binary
// unless SetBinary(false) or the tenant refused it: a 400, 406 or 415 answer to binary is asked
// again in protobuf-json, and when that succeeds the client asks for JSON from then on
// (BinaryRefused). Each page is decoded with pdata by its Content-Type: OTLP protobuf or JSON.
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
	if q.Period != "" {
		what += " (period=" + q.Period + ")"
	}
	if q.Provider == "" || !q.To.After(q.From) {
		return func(yield func(MetricsPage, error) bool) {
			yield(MetricsPage{}, fmt.Errorf("%s: provider must be set and to after from", what))
		}
	}
	fetch := func(ctx context.Context, offset int) (begun[MetricsPage], error) {
		format := FormatJSON
		if c.Binary() {
			format = FormatBinary
		}
		// A tenant that refuses binary (in either phase) is asked again in JSON; that answer
		// begins for the pager once it is whole, so that its next request asks in the format
		// learned.
		refused := func(err error) bool { return format == FormatBinary && refusesFormat(err) }
		p, err := c.metricsCall(ctx, q, res, limit, offset, format)
		if refused(err) {
			a, err := c.metricsInJSON(ctx, q, res, limit, offset, what)
			return ready(a), err
		}
		if err != nil {
			return begun[MetricsPage]{}, err
		}
		return begun[MetricsPage]{total: headerTotal(p.header), rest: func() (answer[MetricsPage], error) {
			resp, err := p.read()
			if refused(err) {
				return c.metricsInJSON(ctx, q, res, limit, offset, what)
			}
			if err != nil {
				return answer[MetricsPage]{}, err
			}
			return c.metricsAnswer(resp, format, offset, limit), nil
		}}, nil
	}
	return flatten(pager[MetricsPage]{logger: c.logger, what: what, limit: limit, maxPages: c.maxPages,
		allPages: q.AllPages, learned: &c.metricsUnit, capped: &c.metricsCapped, handoff: c.handoff}.pages(ctx, fetch))
}

// metricsInJSON asks for a page in protobuf-json that the tenant refused in protobuf-binary:
// when that succeeds, it was the format the tenant refused, and the client asks for JSON from
// then on (BinaryRefused).
func (c *Client) metricsInJSON(ctx context.Context, q MetricsQuery, res string, limit, offset int, what string) (answer[MetricsPage], error) {
	p, err := c.metricsCall(ctx, q, res, limit, offset, FormatJSON)
	var resp *response
	if err == nil {
		resp, err = p.read()
	}
	if err != nil {
		return answer[MetricsPage]{}, err
	}
	if !c.binaryRefused.Swap(true) {
		c.SetBinary(false)
		c.logger.Info("the tenant refuses format=protobuf-binary; asking for protobuf-json from now on", "what", what)
	}
	return c.metricsAnswer(resp, FormatJSON, offset, limit), nil
}

// metricsAnswer is the answer of a metrics request asked for in format, read whole: its points
// counted before decoding (a cheap scan of the body), and its decode.
func (c *Client) metricsAnswer(resp *response, format string, offset, limit int) answer[MetricsPage] {
	total := headerTotal(resp.header)
	ctype := resp.header.Get("Content-Type")
	points := countDataPoints(resp.body)
	if isProtobuf(ctype) {
		points = countBinaryPoints(resp.body)
		if format == FormatBinary {
			c.binaryServed.Store(true)
		}
	}
	size, hash, corr := len(resp.body), bodyHash(resp.body), correlationID(resp)
	// Held until its turn to be decoded, an answer that came gzip'd keeps only the bytes
	// that came (a tenth of the body or less); decode inflates them again.
	body, zipped, max := resp.body, resp.zipped, c.opt.MaxBodyBytes
	if zipped != nil {
		body = nil
	}
	// Decoding (pdata builds the whole tree) takes about as long as a far-away answer: the
	// pager runs it while the next page is on its way.
	decode := func() (decoded[MetricsPage], error) {
		b := body
		if b == nil && zipped != nil {
			var err error
			if b, err = inflate(zipped, max); err != nil {
				return decoded[MetricsPage]{}, err
			}
		}
		md, err := decodeMetrics(ctype, b)
		if err != nil {
			kind := "JSON"
			if isProtobuf(ctype) {
				kind = "protobuf"
			}
			return decoded[MetricsPage]{}, fmt.Errorf("decode OTLP %s (Content-Type %q): %w", kind, ctype, err)
		}
		n := md.DataPointCount()
		keys := rowKeys(md)
		return decoded[MetricsPage]{items: []MetricsPage{{Metrics: md, Offset: offset, Points: n, Rows: len(keys), Total: total, Bytes: size, Limit: limit}},
			count: n, rows: len(keys), keys: keys}, nil
	}
	return answer[MetricsPage]{total: total, hash: hash, bytes: size, corr: corr, items: points, decode: decode}
}

// countDataPoints counts the elements of every "dataPoints" (or "data_points") array of an OTLP
// JSON body without decoding it: for a well-formed body what DataPointCount says once decoded,
// in a fraction of the time. Only the pager's guess of whether a page is full comes from it.
func countDataPoints(b []byte) int {
	n, depth, in := 0, 0, -1 // in: depth of the data points array being counted, -1 outside
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			j := i + 1
			for { // to the closing quote: one not escaped by an odd number of backslashes
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					return n
				}
				j += k
				e := j
				for e > i+1 && b[e-1] == '\\' {
					e--
				}
				if (j-e)%2 == 0 {
					break
				}
				j++
			}
			key := b[i+1 : j]
			i = j
			if in >= 0 || (string(key) != "dataPoints" && string(key) != "data_points") {
				continue
			}
			k := skipSpace(b, j+1)
			if k >= len(b) || b[k] != ':' {
				continue
			}
			if k = skipSpace(b, k+1); k < len(b) && b[k] == '[' {
				depth++
				in, i = depth, k
			}
		case '{', '[':
			depth++
			if c == '{' && depth == in+1 {
				n++
			}
		case '}', ']':
			if depth == in {
				in = -1
			}
			depth--
		}
	}
	return n
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
