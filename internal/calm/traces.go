package calm

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// TracesQuery is one service's spans of a time range from the outbound traces API.
type TracesQuery struct {
	Provider  string    // required: the traces provider ("rum", the only one SAP lists)
	ServiceID string    // the service, as the logs API wants one ("" sends none)
	From, To  time.Time // [from, to) UTC
	PageSize  int       // 0 = client default
}

// TracesPage is one page of a traces series; Spans counts the spans in it. Total is
// x-total-count, -1 when the server did not send it; Limit is the page size asked for. Bytes is
// the size of the page's body.
type TracesPage struct {
	Traces ptrace.Traces
	Offset int
	Spans  int
	Total  int
	Limit  int
	Bytes  int
}

// Traces pages through GET /api/calm-traces/v1/traces (version=V1, provider, serviceId when
// set, from, to, format=protobuf-json, limit, offset, onLimit=truncate) with the logs API's
// pager: SAP documents the endpoint, its provider and its OpenTelemetry format but not its
// parameters, so the collector asks as it asks the logs API (docs/cloud-alm-api.md, "Traces").
//
// The answer is read as OTLP JSON when its Content-Type says JSON, as OTLP protobuf otherwise.
// A 403 "Response total count is over the limit" ends the series with an error matching
// ErrOverLimit; a server cap below the asked limit is paged by the size the server serves.
func (c *Client) Traces(ctx context.Context, q TracesQuery) iter.Seq2[TracesPage, error] {
	what := fmt.Sprintf("traces of provider %s", q.Provider)
	if q.ServiceID != "" {
		what += " service " + q.ServiceID
	}
	what += " " + q.From.UTC().Format(TimeLayout) + "–" + q.To.UTC().Format(TimeLayout)
	switch {
	case q.Provider == "":
		return failed[TracesPage](fmt.Errorf("%s: provider must be set (the traces API serves rum)", what))
	case !q.To.After(q.From):
		return failed[TracesPage](fmt.Errorf("%s: to must be after from", what))
	}
	get := func(ctx context.Context, limit, offset int) (page[TracesPage], error) {
		return c.tracesPage(ctx, q, limit, offset)
	}
	return newRawSeries(c, what, q.PageSize, get).all(ctx)
}

// tracesPage fetches and decodes the page at offset.
func (c *Client) tracesPage(ctx context.Context, q TracesQuery, limit, offset int) (page[TracesPage], error) {
	qv := url.Values{
		"version":  {"V1"},
		"provider": {q.Provider},
		"from":     {q.From.UTC().Format(TimeLayout)},
		"to":       {q.To.UTC().Format(TimeLayout)},
		"format":   {"protobuf-json"},
		"limit":    {strconv.Itoa(limit)},
		"offset":   {strconv.Itoa(offset)},
		"onLimit":  {"truncate"}, // as the logs API: limit and offset only work with it (assumed)
	}
	if q.ServiceID != "" {
		qv.Set("serviceId", q.ServiceID)
	}
	resp, err := c.rawGet(ctx, "calm-traces/v1/traces", shapeTraces, qv)
	if err != nil {
		return page[TracesPage]{}, err
	}
	td, err := decodeTraces(resp.header.Get("Content-Type"), resp.body)
	if err != nil {
		return page[TracesPage]{}, err
	}
	n := td.SpanCount()
	tp := TracesPage{Traces: td, Offset: offset, Spans: n, Total: headerTotal(resp.header), Limit: limit, Bytes: len(resp.body)}
	return rawPage(resp, tp, offset, n), nil
}

// decodeTraces reads an OTLP ExportTraceServiceRequest (decodeOTLP). The request has the wire
// format of ptrace's TracesData, so ptrace's unmarshalers read it (ptraceotlp would link all of
// gRPC into the Lambdas).
func decodeTraces(contentType string, body []byte) (ptrace.Traces, error) {
	return decodeOTLP("traces", contentType, body, ptrace.NewTraces, (&ptrace.JSONUnmarshaler{}).UnmarshalTraces, (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces)
}
