package record

import (
	"crypto/sha256"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Attribute names FromTraces gives a span's own fields (the OTLP sink maps them back).
const (
	AttrTraceID       = "traceId"       // 32 hex digits
	AttrSpanID        = "spanId"        // 16 hex digits
	AttrParentSpanID  = "parentSpanId"  // 16 hex digits; absent for a root span
	AttrSpanKind      = "spanKind"      // Internal, Server, Client, Producer or Consumer; absent when unspecified
	AttrStatusCode    = "statusCode"    // Ok or Error; absent when unset
	AttrStatusMessage = "statusMessage" // absent when empty
	AttrEndTime       = "endTime"       // RFC 3339 UTC with nanoseconds
)

// SpanUnit is the unit of a span record's value, its duration.
const SpanUnit = "ms"

// DefaultSpanName names a span record whose span has no name.
const DefaultSpanName = "span"

// SpanRecordID returns the id of a span record: one id per span, whatever its content, so a
// span served twice is one record downstream; two different spans never share one (OTLP makes
// a span id unique within its trace).
func SpanRecordID(tenant, monitor, traceID, spanID string) string {
	h := sha256.New()
	writeField(h, "span")
	writeField(h, tenant)
	writeField(h, monitor)
	writeField(h, traceID)
	writeField(h, spanID)
	return sum(h)
}

// FromTraces turns every span of td into a Record of kind span and calls fn with each, in the
// order of td; it stops at and returns the first error of fn.
//
//   - Name is the span name (DefaultSpanName when empty); Time its start in UTC.
//   - Value is its duration in milliseconds (end − start; 0 when the end is before the start),
//     Unit SpanUnit.
//   - Attributes are the resource attributes merged with the span's (the span wins), every
//     value as AsString, plus the span's own fields under the Attr* names above, which win over
//     attributes of the same name. Scope attributes, span events and links are not carried.
//   - ID is SpanRecordID of the trace id and span id.
func FromTraces(tenant, monitor string, td ptrace.Traces, fn func(Record) error) error {
	for _, rs := range td.ResourceSpans().All() {
		res := rs.Resource().Attributes()
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				attrs := make(map[string]string, res.Len()+sp.Attributes().Len()+7)
				for key, v := range res.All() {
					attrs[ValidText(key)] = ValidText(v.AsString())
				}
				for key, v := range sp.Attributes().All() {
					attrs[ValidText(key)] = ValidText(v.AsString())
				}
				if err := fn(spanRecord(tenant, monitor, sp, attrs)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// spanRecord makes the record of sp, adding its own fields to attrs.
func spanRecord(tenant, monitor string, sp ptrace.Span, attrs map[string]string) Record {
	traceID, spanID := sp.TraceID().String(), sp.SpanID().String()
	attrs[AttrTraceID], attrs[AttrSpanID] = traceID, spanID
	delete(attrs, AttrParentSpanID)
	if p := sp.ParentSpanID(); !p.IsEmpty() {
		attrs[AttrParentSpanID] = p.String()
	}
	delete(attrs, AttrSpanKind)
	if k := sp.Kind(); k != ptrace.SpanKindUnspecified {
		attrs[AttrSpanKind] = k.String()
	}
	delete(attrs, AttrStatusCode)
	if c := sp.Status().Code(); c != ptrace.StatusCodeUnset {
		attrs[AttrStatusCode] = c.String()
	}
	delete(attrs, AttrStatusMessage)
	if m := sp.Status().Message(); m != "" {
		attrs[AttrStatusMessage] = ValidText(m)
	}
	start, end := sp.StartTimestamp().AsTime().UTC(), sp.EndTimestamp().AsTime().UTC()
	attrs[AttrEndTime] = end.Format(time.RFC3339Nano)
	name := ValidText(sp.Name())
	if name == "" {
		name = DefaultSpanName
	}
	return Record{
		ID:     SpanRecordID(tenant, monitor, traceID, spanID),
		Tenant: tenant, Monitor: monitor, Kind: KindSpan, Name: name, Time: start,
		Value: max(float64(end.Sub(start))/float64(time.Millisecond), 0), HasValue: true, Unit: SpanUnit,
		Attributes: attrs,
	}
}
