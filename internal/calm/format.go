package calm

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/calm-collector/calm-collector/internal/wire"
)

// Formats of the metrics API's answers (its format parameter).
const (
	FormatJSON   = "protobuf-json"   // OTLP JSON
	FormatBinary = "protobuf-binary" // OTLP protobuf: about half the bytes, decoded several times faster
)

// SetBinary sets whether metrics calls ask for protobuf-binary (the default) or protobuf-json.
// A collect run sets it from what the state store remembers of the tenant (docs/transfer.md).
func (c *Client) SetBinary(on bool) { c.jsonOnly.Store(!on) }

// Binary reports whether metrics calls ask for protobuf-binary now.
func (c *Client) Binary() bool { return !c.jsonOnly.Load() }

// BinaryRefused reports whether the tenant refused format=protobuf-binary during this
// client's life (the call was then repeated with protobuf-json, and later calls ask for it).
func (c *Client) BinaryRefused() bool { return c.binaryRefused.Load() }

// BinaryServed reports whether the tenant answered a protobuf-binary call in protobuf during
// this client's life.
func (c *Client) BinaryServed() bool { return c.binaryServed.Load() }

// refusesFormat reports whether err is how a tenant refuses a format value: 400 Bad Request,
// 406 Not Acceptable or 415 Unsupported Media Type. Whether it was the format is only known
// when the same call with protobuf-json then succeeds.
func refusesFormat(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusBadRequest ||
		ae.StatusCode == http.StatusNotAcceptable || ae.StatusCode == http.StatusUnsupportedMediaType)
}

// isProtobuf reports whether a Content-Type names protobuf; the metrics API answers
// application/x-protobuf for protobuf-binary and application/json for protobuf-json. The
// answer is decoded by what it says it is, not by what was asked for.
func isProtobuf(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/x-protobuf" || mt == "application/protobuf" ||
		mt == "application/vnd.google.protobuf" || mt == "application/octet-stream"
}

// decodeMetrics decodes an OTLP metrics answer with pdata, protobuf or JSON by its Content-Type.
func decodeMetrics(contentType string, body []byte) (pmetric.Metrics, error) {
	if isProtobuf(contentType) {
		if len(body) == 0 {
			return pmetric.NewMetrics(), nil
		}
		var u pmetric.ProtoUnmarshaler
		return u.UnmarshalMetrics(body)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return pmetric.NewMetrics(), nil
	}
	var u pmetric.JSONUnmarshaler
	return u.UnmarshalMetrics(body)
}

// Field numbers countBinaryPoints reads (OTLP metrics.proto).
const (
	fieldResourceMetrics protowire.Number = 1 // MetricsData.resource_metrics
	fieldScopeMetrics    protowire.Number = 2 // ResourceMetrics.scope_metrics
	fieldMetric          protowire.Number = 2 // ScopeMetrics.metrics
	fieldDataPoints      protowire.Number = 1 // Gauge, Sum, Histogram, ExponentialHistogram, Summary: data_points
)

// isDataField reports whether a Metric field is its data oneof: gauge (5), sum (7),
// histogram (9), exponential_histogram (10) or summary (11).
func isDataField(n protowire.Number) bool { return n == 5 || n == 7 || n == 9 || n == 10 || n == 11 }

// countBinaryPoints counts the data points of an OTLP protobuf metrics body without decoding
// it, as countDataPoints does for JSON: only the pager's guess of whether a page is full comes
// from it.
// Of a metric's data fields the last one counts (a later oneof field replaces an earlier one).
func countBinaryPoints(b []byte) int {
	n := 0
	eachField(b, func(rm wire.Field) {
		if rm.Num != fieldResourceMetrics || rm.Type != protowire.BytesType {
			return
		}
		eachField(rm.Data, func(sm wire.Field) {
			if sm.Num != fieldScopeMetrics || sm.Type != protowire.BytesType {
				return
			}
			eachField(sm.Data, func(m wire.Field) {
				if m.Num != fieldMetric || m.Type != protowire.BytesType {
					return
				}
				last := 0
				eachField(m.Data, func(data wire.Field) {
					if !isDataField(data.Num) || data.Type != protowire.BytesType {
						return
					}
					last = 0
					eachField(data.Data, func(p wire.Field) {
						if p.Num == fieldDataPoints && p.Type == protowire.BytesType {
							last++
						}
					})
				})
				n += last
			})
		})
	})
	return n
}
