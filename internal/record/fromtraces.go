package record

import (
	"cmp"
	"slices"
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
	x := idHashes.Get().(*idHash)
	defer idHashes.Put(x)
	x.h.Reset()
	x.b = appendField(appendField(appendField(x.b[:0], "span"), tenant), monitor)
	x.b = appendField(appendField(x.b, traceID), spanID)
	return x.id()
}

// FromTraces turns every span of td into a Record of kind span and calls fn with each, in the
// order of td; it stops at and returns the first error of fn.
//
//   - Name is the span name (DefaultSpanName when empty); Time its start in UTC.
//   - Value is its duration in milliseconds (end − start; 0 when the end is before the start),
//     Unit SpanUnit.
//   - The series' attributes (a series of its own) are the resource attributes merged with the
//     span's (the span wins), every value as AsString, plus the span's own fields under the
//     Attr* names above, which win over attributes of the same name. Scope attributes, span
//     events and links are not carried.
//   - ID is SpanRecordID of the trace id and span id.
func FromTraces(tenant, monitor string, td ptrace.Traces, fn func(Record) error) error {
	c := converter{tenant: tenant, monitor: monitor}
	for _, rs := range td.ResourceSpans().All() {
		c.resource = sortedPairs(c.resource[:0], rs.Resource().Attributes())
		for _, ss := range rs.ScopeSpans().All() {
			for _, sp := range ss.Spans().All() {
				if err := fn(c.span(sp)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// span makes the record of sp, adding its own fields to its attributes: a series of its own.
func (c *converter) span(sp ptrace.Span) Record {
	c.mergeAttrs(sp.Attributes())
	traceID, spanID := sp.TraceID().String(), sp.SpanID().String()
	c.set(AttrTraceID, traceID)
	c.set(AttrSpanID, spanID)
	c.del(AttrParentSpanID)
	if p := sp.ParentSpanID(); !p.IsEmpty() {
		c.set(AttrParentSpanID, p.String())
	}
	c.del(AttrSpanKind)
	if k := sp.Kind(); k != ptrace.SpanKindUnspecified {
		c.set(AttrSpanKind, k.String())
	}
	c.del(AttrStatusCode)
	if code := sp.Status().Code(); code != ptrace.StatusCodeUnset {
		c.set(AttrStatusCode, code.String())
	}
	c.del(AttrStatusMessage)
	if m := sp.Status().Message(); m != "" {
		c.set(AttrStatusMessage, ValidText(m))
	}
	start, end := sp.StartTimestamp().AsTime().UTC(), sp.EndTimestamp().AsTime().UTC()
	c.set(AttrEndTime, end.Format(time.RFC3339Nano))
	name := cmp.Or(ValidText(sp.Name()), DefaultSpanName)
	return Record{
		Series: newSeries(c.tenant, c.monitor, KindSpan, name, SpanUnit, false, slices.Clone(c.merged)), Point: Point{ID: SpanRecordID(c.tenant, c.monitor, traceID, spanID), Time: start,
			Value: max(float64(end.Sub(start))/float64(time.Millisecond), 0), HasValue: true}}
}
