package sink

import (
	"encoding/hex"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/calm-collector/calm-collector/internal/record"
)

// Spans (kind "span") become OTLP spans again (record.FromTraces made the records): trace id,
// span id and parent span id from the attributes traceId, spanId and parentSpanId; name = the
// record name; start = the record time; end = the attribute endTime (else start + the value in
// ms); kind and status from spanKind, statusCode and statusMessage. Those attributes are not
// repeated as span attributes; every other record attribute is one, and calm.record.id = the
// record id. The resource is the one of metrics and logs (service.name=sap-cloud-alm,
// calm.tenant, calm.monitor); Cloud ALM's own resource attributes (serviceId, serviceName, …)
// are span attributes, as they are data-point attributes of metrics.

// spanFields are the record attributes that are a span's own fields.
var spanFields = map[string]bool{
	record.AttrTraceID: true, record.AttrSpanID: true, record.AttrParentSpanID: true, record.AttrSpanKind: true,
	record.AttrStatusCode: true, record.AttrStatusMessage: true, record.AttrEndTime: true,
}

var spanKinds = func() map[string]ptrace.SpanKind {
	m := map[string]ptrace.SpanKind{}
	for _, k := range []ptrace.SpanKind{ptrace.SpanKindInternal, ptrace.SpanKindServer, ptrace.SpanKindClient,
		ptrace.SpanKindProducer, ptrace.SpanKindConsumer} {
		m[k.String()] = k
	}
	return m
}()

var statusCodes = map[string]ptrace.StatusCode{ptrace.StatusCodeOk.String(): ptrace.StatusCodeOk, ptrace.StatusCodeError.String(): ptrace.StatusCodeError}

// traces maps the span records of recs to one OTLP payload; other kinds are skipped. A span
// record without a valid trace or span id is an error naming it.
func (m otlpMapper) traces(recs []record.Record) (ptrace.Traces, error) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	m.resource(rs.Resource().Attributes())
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(otlpScopeName)
	for i := range recs {
		r := &recs[i]
		if r.Kind() != record.KindSpan {
			continue
		}
		if err := spanOf(r, ss.Spans().AppendEmpty()); err != nil {
			return ptrace.Traces{}, fmt.Errorf("span record %s (%q at %s): %w", r.ID, r.Name(), r.Time.UTC().Format(time.RFC3339), err)
		}
	}
	return td, nil
}

// spanOf fills sp from the span record r.
func spanOf(r *record.Record, sp ptrace.Span) error {
	var traceID pcommon.TraceID
	var spanID, parent pcommon.SpanID
	if err := hexID(traceID[:], record.AttrTraceID, r.Attr(record.AttrTraceID), true); err != nil {
		return err
	}
	if err := hexID(spanID[:], record.AttrSpanID, r.Attr(record.AttrSpanID), true); err != nil {
		return err
	}
	if err := hexID(parent[:], record.AttrParentSpanID, r.Attr(record.AttrParentSpanID), false); err != nil {
		return err
	}
	sp.SetTraceID(traceID)
	sp.SetSpanID(spanID)
	sp.SetParentSpanID(parent)
	sp.SetName(r.Name())
	sp.SetKind(spanKinds[r.Attr(record.AttrSpanKind)])
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(r.Time))
	end, err := time.Parse(time.RFC3339Nano, r.Attr(record.AttrEndTime))
	if err != nil {
		end = r.Time.Add(time.Duration(r.Value * float64(time.Millisecond)))
	}
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	sp.Status().SetCode(statusCodes[r.Attr(record.AttrStatusCode)])
	sp.Status().SetMessage(r.Attr(record.AttrStatusMessage))
	attrs := sp.Attributes()
	attrs.EnsureCapacity(r.NumAttrs() + 1)
	for k, v := range r.Attrs() {
		if !spanFields[k] {
			attrs.PutStr(k, v)
		}
	}
	if _, ok := r.LookupAttr(attrRecordID); !ok && r.ID != "" {
		attrs.PutStr(attrRecordID, r.ID)
	}
	return nil
}

// hexID decodes the id attribute name's value s into dst (len(dst) bytes as 2·len(dst) hex
// digits); "" is an error only when the id is required.
func hexID(dst []byte, name, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if len(s) != 2*len(dst) {
		return fmt.Errorf("attribute %s %q is not %d hex digits", name, s, 2*len(dst))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("attribute %s %q is not %d hex digits", name, s, 2*len(dst))
	}
	return nil
}
