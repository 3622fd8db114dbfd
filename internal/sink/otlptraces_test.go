package sink

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/record"
)

// rumTraces is one trace as the Cloud ALM traces API might serve it: a server span with an
// error status and a client child.
func rumTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("serviceId", "s-1")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	root := spans.AppendEmpty()
	root.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	root.SetSpanID(pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1})
	root.SetName("GET /ui")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(pcommon.NewTimestampFromTime(otlpFrom.Add(1234567 * time.Microsecond)))
	root.SetEndTimestamp(pcommon.NewTimestampFromTime(otlpFrom.Add(2 * time.Second)))
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("HTTP 500")
	root.Attributes().PutStr("user.name", "anonymous-1f2e")
	child := spans.AppendEmpty()
	child.SetTraceID(root.TraceID())
	child.SetSpanID(pcommon.SpanID{2, 2, 2, 2, 2, 2, 2, 2})
	child.SetParentSpanID(root.SpanID())
	child.SetName("POST /$batch")
	child.SetKind(ptrace.SpanKindClient)
	child.SetStartTimestamp(pcommon.NewTimestampFromTime(otlpFrom.Add(1500 * time.Millisecond)))
	child.SetEndTimestamp(pcommon.NewTimestampFromTime(otlpFrom.Add(1600 * time.Millisecond)))
	return td
}

func spanBatch(t *testing.T) Batch {
	b := Batch{Tenant: "t1", Monitor: "traces", From: otlpFrom, To: otlpFrom.Add(5 * time.Minute)}
	if err := record.FromTraces("t1", "traces", rumTraces(), func(r record.Record) error {
		b.Series = record.Runs(append(recordsOf(b), r))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// Span records sent to the OpenTelemetry Collector's own OTLP receiver arrive as the spans they
// were made of: ids, parent, name, kind, times to the nanosecond, status and attributes, plus
// calm.record.id; the resource is the collector's.
func TestOTLPSpansToRealReceiver(t *testing.T) {
	rcv := otlptest.Start(t)
	s, err := NewOTLP("otlp+"+rcv.Endpoint, OTLPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	b := spanBatch(t)
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if n := rcv.Traces.SpanCount(); n != 2 {
		t.Fatalf("receiver got %d spans, want 2", n)
	}
	rs := rcv.Traces.AllTraces()[0].ResourceSpans().At(0)
	if res := rs.Resource().Attributes().AsRaw(); !mapsEqual(res, map[string]any{"service.name": "sap-cloud-alm", "calm.tenant": "t1", "calm.monitor": "traces"}) {
		t.Errorf("traces resource = %v", res)
	}
	got := rs.ScopeSpans().At(0).Spans()
	want := rumTraces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := range want.Len() {
		g, w := got.At(i), want.At(i)
		if g.TraceID() != w.TraceID() || g.SpanID() != w.SpanID() || g.ParentSpanID() != w.ParentSpanID() ||
			g.Name() != w.Name() || g.Kind() != w.Kind() || g.StartTimestamp() != w.StartTimestamp() ||
			g.EndTimestamp() != w.EndTimestamp() || g.Status().Code() != w.Status().Code() || g.Status().Message() != w.Status().Message() {
			t.Errorf("span %d arrived as %s %s/%s parent %s %s %s–%s %s %q, want %s %s/%s parent %s %s %s–%s %s %q", i,
				g.Name(), g.TraceID(), g.SpanID(), g.ParentSpanID(), g.Kind(), g.StartTimestamp(), g.EndTimestamp(), g.Status().Code(), g.Status().Message(),
				w.Name(), w.TraceID(), w.SpanID(), w.ParentSpanID(), w.Kind(), w.StartTimestamp(), w.EndTimestamp(), w.Status().Code(), w.Status().Message())
		}
		wantAttrs := map[string]any{"serviceId": "s-1", "calm.record.id": recordsOf(b)[i].ID}
		for k, v := range w.Attributes().All() {
			wantAttrs[k] = v.AsString()
		}
		if a := g.Attributes().AsRaw(); !mapsEqual(a, wantAttrs) {
			t.Errorf("span %d attributes = %v, want %v", i, a, wantAttrs)
		}
	}
}

func TestOTLPSpanPartialSuccessAndBadID(t *testing.T) {
	resp := ptraceotlp.NewExportResponse()
	resp.PartialSuccess().SetRejectedSpans(1)
	resp.PartialSuccess().SetErrorMessage("span too old")
	body, _ := resp.MarshalProto()
	be := newBackend(t, answer{status: 200, header: map[string]string{"Content-Type": "application/x-protobuf"}, body: body})
	s := newTestOTLP(t, be.srv.URL, OTLPOptions{})
	err := s.Write(context.Background(), spanBatch(t))
	var pe *OTLPPartialError
	if !errors.As(err, &pe) || !strings.HasSuffix(err.Error(), "/v1/traces: partial success: the backend rejected 1 of 2 spans: span too old") {
		t.Errorf("err = %v", err)
	}
	b := spanBatch(t)
	bad := recordsOf(b)
	bad[1] = withAttr(bad[1], record.AttrSpanID, "xyz")
	b.Series = record.Runs(bad)
	n := be.count()
	err = s.Write(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), `attribute spanId "xyz" is not 16 hex digits`) || be.count() != n {
		t.Errorf("a span record with a bad span id: err %v, %d requests sent", err, be.count()-n)
	}
}
