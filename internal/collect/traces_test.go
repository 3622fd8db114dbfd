package collect

import (
	"context"
	"iter"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
)

func (c *cannedClient) Traces(context.Context, calm.TracesQuery) iter.Seq2[calm.TracesPage, error] {
	return func(yield func(calm.TracesPage, error) bool) {
		yield(calm.TracesPage{Traces: ptrace.NewTraces(), Total: 0}, nil)
	}
}

// wantSpans are the simulator's spans of [from, to) as span records: by record id.
func wantSpans(t *testing.T, e *env, from, to time.Time) map[string]sim.Span {
	t.Helper()
	want := map[string]sim.Span{}
	for _, sp := range e.sim.ExpectedSpans(e.sim.ServiceIDs(), from, to, true) {
		want[record.SpanRecordID(e.r.Tenant, "traces", sp.TraceID, sp.SpanID)] = sp
	}
	if len(want) == 0 {
		t.Fatal("the simulator holds no spans in the range; the test proves nothing")
	}
	return want
}

// checkSpansExactlyOnce checks that recs are exactly the simulator's spans in want, each
// once, with name, start, duration and the span's fields intact.
func checkSpansExactlyOnce(t *testing.T, recs []record.Record, want map[string]sim.Span) {
	t.Helper()
	got := map[string]bool{}
	for _, r := range recs {
		if got[r.ID] {
			t.Errorf("span record %s delivered twice", r.ID)
		}
		got[r.ID] = true
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("record %s %s %v is not a span of the simulator in range", r.Name(), r.Time, r.AttrMap())
			continue
		}
		a := r.AttrMap()
		if r.Kind() != record.KindSpan || r.Name() != w.Name || !r.Time.Equal(w.Start) || r.Value != float64(w.End.Sub(w.Start))/1e6 ||
			a[record.AttrTraceID] != w.TraceID || a[record.AttrSpanID] != w.SpanID || a[record.AttrParentSpanID] != w.ParentSpanID ||
			a[record.AttrSpanKind] != w.Kind.String() || a["serviceId"] != w.ServiceID || a["user.name"] != w.User {
			t.Errorf("record %+v does not match the simulator's %+v", r, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("delivered %d spans, the simulator holds %d", len(got), len(want))
	}
}

// receivedSpans are the ids of the spans the OTLP receiver got, by calm.record.id, counted.
func receivedSpans(rcv *otlptest.Receiver) map[string]int {
	got := map[string]int{}
	for _, td := range rcv.Traces.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					id, _ := sp.Attributes().Get("calm.record.id")
					got[id.Str()]++
				}
			}
		}
	}
	return got
}

// Against both readings of the simulator (JSON and protobuf answers, the strict one's 60-minute
// cap), a 24 h backfill and two scheduled runs of traces deliver every span once, to the
// records sink and to a real OTLP receiver alike.
func TestTracesBackfillAndScheduledRunsAreExact(t *testing.T) {
	for _, rd := range sim.Readings() {
		t.Run(rd.Name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			e := newEnvWith(t, rd.Config, "traces")
			e.r.Sinks = append(e.r.Sinks, newOTLPSink(t, rcv.Endpoint))
			rng := Range{From: ts("2026-11-24T09:00:00Z"), To: ts("2026-11-25T09:00:00Z")}
			bs := e.r.Run(context.Background(), Request{Backfill: &rng})
			mustOK(t, bs)
			want := wantSpans(t, e, rng.From, rng.To)
			tm := summaryOf(t, bs, "traces")
			t.Logf("24 h backfill: %d spans, %d requests, %d bytes on the wire (%.0f a span), %d decoded (%.0f a span)", tm.Points,
				tm.Requests, tm.APIBytes, float64(tm.APIBytes)/float64(tm.Points), tm.APIBytesDecoded, float64(tm.APIBytesDecoded)/float64(tm.Points))
			backfilled := len(records(e.sink, "traces"))
			checkSpansExactlyOnce(t, records(e.sink, "traces"), want)

			s1 := e.r.Run(context.Background(), Request{})
			mustOK(t, s1)
			e.clock.Advance(23 * time.Minute) // 10:30 → due up to 10:25
			s2 := e.r.Run(context.Background(), Request{})
			mustOK(t, s2)
			if w1, w2 := summaryOf(t, s1, "traces").Windows, summaryOf(t, s2, "traces").Windows; w1 != 12 || w2 != 4 {
				t.Errorf("windows %d then %d, want 12 then 4", w1, w2)
			}
			scheduled := wantSpans(t, e, ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:25:00Z"))
			checkSpansExactlyOnce(t, records(e.sink, "traces")[backfilled:], scheduled)
			for _, b := range e.sink.Batches() {
				for r := range b.Records() {
					if r.Time.Before(b.From) || !r.Time.Before(b.To) {
						t.Errorf("span at %s in window %s", r.Time, fmtRange(Range{b.From, b.To}))
					}
				}
			}

			got := receivedSpans(rcv)
			for id := range scheduled {
				want[id] = sim.Span{}
			}
			for id, n := range got {
				if _, ok := want[id]; !ok || n != 1 {
					t.Errorf("the receiver got span record %s %d times; want it once, or never if it is no span of the simulator", id, n)
				}
			}
			if len(got) != len(want) {
				t.Errorf("the receiver got %d spans, the simulator served %d", len(got), len(want))
			}
			t.Logf("%d spans in 24 h, %d in two scheduled runs", len(want)-len(scheduled), len(scheduled))
		})
	}
}

// Without calm-api.rum.personal.read the spans carry the simulator's pseudonyms, and the
// records say so: no user name reaches a sink.
func TestTracesWithoutPersonalScopeCarryPseudonyms(t *testing.T) {
	var scopes []string
	for _, s := range sim.AllScopes {
		if s != sim.ScopeRUMUsers {
			scopes = append(scopes, s)
		}
	}
	e := newEnvWith(t, sim.Config{Scopes: scopes}, "traces")
	mustOK(t, e.r.Run(context.Background(), Request{}))
	recs := records(e.sink, "traces")
	pseudonyms := map[string]string{}
	for _, sp := range e.sim.ExpectedSpans(e.sim.ServiceIDs(), ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"), false) {
		pseudonyms[sp.SpanID] = sp.User
	}
	if len(recs) == 0 || len(recs) != len(pseudonyms) {
		t.Fatalf("%d records, the simulator holds %d spans", len(recs), len(pseudonyms))
	}
	for i, r := range recs {
		if u := r.Attr("user.name"); u != pseudonyms[r.Attr(record.AttrSpanID)] {
			t.Errorf("record %d: user.name %q, want the pseudonym %q", i, u, pseudonyms[r.Attr(record.AttrSpanID)])
		}
	}
}
