package calm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// ErrOverLimit means the logs or traces API refused a request because the time range holds
// more records than it answers at once (HTTP 403 "Response total count is over the limit"). The
// caller asks again for smaller time ranges. The error wraps the *APIError.
var ErrOverLimit = errors.New("the API holds more records for this range than it answers at once; ask for a shorter time range")

// overLimitMessage is how the logs API words its count cap (docs/design.md §1.4), matched
// case-insensitively; the traces API is taken to word it alike (docs/cloud-alm-api.md, "Traces").
const overLimitMessage = "response total count is over the limit"

// LogsQuery is one service's raw exception logs of a time range.
type LogsQuery struct {
	ServiceID string    // required: the API answers 428 without it
	From, To  time.Time // [from, to) UTC
	PageSize  int       // 0 = client default
	Provider  string    // the provider parameter (SAP's example sends it; some tenants require it)
}

// LogsPage is one page of a logs series; Records counts the log records in it. Total is
// x-total-count, -1 when the server did not send it; Limit is the page size asked for. Bytes is
// the size of the page's body.
type LogsPage struct {
	Logs    plog.Logs
	Offset  int
	Records int
	Total   int
	Limit   int
	Bytes   int
}

// Logs pages through GET /api/calm-logs/v1/logs (version=V1, serviceId, from, to,
// format=protobuf-json, preserveTimeStamp=true, observedTimestamp=true, limit, offset,
// onLimit=truncate, and provider when set) with the same limit/offset pager as Metrics.
//
// The API answers OTLP protobuf whatever format says; a JSON answer (by its Content-Type) is
// read as OTLP JSON. A 403 "Response total count is over the limit" ends the series with an
// error matching ErrOverLimit. A server that serves fewer records per request than asked
// (its own cap) while the total says there are more is paged by the size it serves: the
// first page is kept, not fetched again.
func (c *Client) Logs(ctx context.Context, q LogsQuery) iter.Seq2[LogsPage, error] {
	what := fmt.Sprintf("logs of service %s %s–%s", q.ServiceID, q.From.UTC().Format(TimeLayout), q.To.UTC().Format(TimeLayout))
	switch {
	case q.ServiceID == "":
		return failed[LogsPage](fmt.Errorf("%s: serviceId must be set (the logs API answers 428 without it)", what))
	case !q.To.After(q.From):
		return failed[LogsPage](fmt.Errorf("%s: to must be after from", what))
	}
	get := func(ctx context.Context, limit, offset int) (page[LogsPage], error) {
		return c.logsPage(ctx, q, limit, offset)
	}
	return newRawSeries(c, what, q.PageSize, get).all(ctx)
}

// logsPage fetches and decodes the page at offset.
func (c *Client) logsPage(ctx context.Context, q LogsQuery, limit, offset int) (page[LogsPage], error) {
	qv := url.Values{
		"version":           {"V1"},
		"serviceId":         {q.ServiceID},
		"from":              {q.From.UTC().Format(TimeLayout)},
		"to":                {q.To.UTC().Format(TimeLayout)},
		"format":            {"protobuf-json"},
		"preserveTimeStamp": {"true"},
		"observedTimestamp": {"true"},
		"limit":             {strconv.Itoa(limit)},
		"offset":            {strconv.Itoa(offset)},
		"onLimit":           {"truncate"}, // limit and offset only work with it (docs/design.md §1.4)
	}
	if q.Provider != "" {
		qv.Set("provider", q.Provider)
	}
	resp, err := c.rawGet(ctx, "calm-logs/v1/logs", shapeLogs, qv)
	if err != nil {
		return page[LogsPage]{}, err
	}
	ld, err := decodeLogs(resp.header.Get("Content-Type"), resp.body)
	if err != nil {
		return page[LogsPage]{}, err
	}
	n := ld.LogRecordCount()
	lp := LogsPage{Logs: ld, Offset: offset, Records: n, Total: headerTotal(resp.header), Limit: limit, Bytes: len(resp.body)}
	return rawPage(resp, lp, offset, n), nil
}

// decodeLogs reads an OTLP ExportLogsServiceRequest (decodeOTLP), what the API sends whatever
// format asks for.
//
// The request has the wire format of plog's LogsData, so plog's unmarshalers read it; not
// plogotlp's ExportRequest, whose package registers the gRPC service and links all of gRPC
// into the Lambdas. promoteScopeLogs keeps plogotlp's handling of deprecated scope logs.
func decodeLogs(contentType string, body []byte) (plog.Logs, error) {
	return decodeOTLP("logs", contentType, body, plog.NewLogs, (&plog.JSONUnmarshaler{}).UnmarshalLogs, func(body []byte) (plog.Logs, error) {
		var u plog.ProtoUnmarshaler
		promoted, dropped := promoteScopeLogs(body)
		ld, err := u.UnmarshalLogs(promoted)
		if err == nil && dropped != nil {
			_, err = u.UnmarshalLogs(dropped)
		}
		return ld, err
	})
}

// decodeOTLP reads an OTLP export request of signal ("logs", "traces"): JSON when the
// Content-Type says so, protobuf otherwise. An empty body, {} and null hold nothing, whatever
// the Content-Type says.
func decodeOTLP[T any](signal, contentType string, body []byte, none func() T, fromJSON, fromProto func([]byte) (T, error)) (T, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || string(t) == "{}" || string(t) == "null" {
		return none(), nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	format, decode := "protobuf", fromProto
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		format, decode = "JSON", fromJSON
	}
	v, err := decode(body)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("decode OTLP %s %s (Content-Type %q): %w", format, signal, contentType, err)
	}
	return v, nil
}

// failed is a sequence yielding only err.
func failed[T any](err error) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		yield(zero, err)
	}
}
