package record

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// testTraces builds one resource with a root server span (status error, a shadowing attribute
// and an attribute named like a span field) and its child client span without kind or status.
func testTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("serviceId", "svc-1")
	rs.Resource().Attributes().PutStr("shared", "from-resource")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	root := spans.AppendEmpty()
	root.SetTraceID(pcommon.TraceID{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	root.SetSpanID(pcommon.SpanID{0xcd, 1, 2, 3, 4, 5, 6, 7})
	root.SetName("GET /sap/bc/ui5")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(pcommon.NewTimestampFromTime(t0))
	root.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(1250 * time.Millisecond)))
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("HTTP 500")
	root.Attributes().PutStr("shared", "from-span")
	root.Attributes().PutStr("spanKind", "made up")
	root.Attributes().PutInt("http.status_code", 500)
	child := spans.AppendEmpty()
	child.SetTraceID(root.TraceID())
	child.SetSpanID(pcommon.SpanID{0xef, 1, 2, 3, 4, 5, 6, 7})
	child.SetParentSpanID(root.SpanID())
	child.SetStartTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second)))
	child.SetEndTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Second + 40*time.Millisecond)))
	return td
}

func TestFromTraces(t *testing.T) {
	var got []Record
	if err := FromTraces("prod-eu10", "traces", testTraces(), func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	const trace = "ab0102030405060708090a0b0c0d0e0f"
	want := []Record{
		{Series: NewSeries("prod-eu10", "traces", KindSpan, "GET /sap/bc/ui5", "ms", false,
			map[string]string{"serviceId": "svc-1", "shared": "from-span", "http.status_code": "500",
				"traceId": trace, "spanId": "cd01020304050607", "spanKind": "Server", "statusCode": "Error",
				"statusMessage": "HTTP 500", "endTime": "2026-11-25T10:05:01.25Z"}),
			Point: Point{ID: SpanRecordID("prod-eu10", "traces", trace, "cd01020304050607"), Time: t0, Value: 1250, HasValue: true}},
		{Series: NewSeries("prod-eu10", "traces", KindSpan, "span", "ms", false,
			map[string]string{"serviceId": "svc-1", "shared": "from-resource",
				"traceId": trace, "spanId": "ef01020304050607", "parentSpanId": "cd01020304050607",
				"endTime": "2026-11-25T10:05:01.04Z"}),
			Point: Point{ID: SpanRecordID("prod-eu10", "traces", trace, "ef01020304050607"), Time: t0.Add(time.Second), Value: 40, HasValue: true}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records\n%+v\nwant\n%+v", got, want)
	}
}

// A span's id depends on its trace and span id only: the same span with other content (a
// later end, an attribute more) keeps it; another span id, trace id or tenant changes it.
func TestSpanRecordID(t *testing.T) {
	id := SpanRecordID("t", "traces", "aa", "bb")
	for _, other := range []string{
		SpanRecordID("t", "traces", "aa", "bc"), SpanRecordID("t", "traces", "ab", "bb"),
		SpanRecordID("u", "traces", "aa", "bb"), SpanRecordID("t", "traces", "a", "abb"),
	} {
		if other == id {
			t.Errorf("two spans share the id %s", id)
		}
	}
	td := testTraces()
	first := idsOf(t, td)
	sp := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	sp.SetEndTimestamp(sp.EndTimestamp() + 1e9)
	sp.Attributes().PutStr("more", "x")
	if again := idsOf(t, td); !reflect.DeepEqual(first, again) {
		t.Errorf("ids changed with the content: %v, then %v", first, again)
	}
}

func idsOf(t *testing.T, td ptrace.Traces) []string {
	var ids []string
	if err := FromTraces("t", "traces", td, func(r Record) error { ids = append(ids, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// A span record goes through the NDJSON line and back unchanged but for Count.
func TestSpanRecordJSONRoundTrip(t *testing.T) {
	var recs []Record
	_ = FromTraces("t", "traces", testTraces(), func(r Record) error { recs = append(recs, r); return nil })
	for _, r := range recs {
		line := AppendJSON(nil, &r)
		back, err := Decode(bytes.TrimSpace(line))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("line %s reads back as\n%+v\nwant\n%+v", line, back, r)
		}
	}
}

func TestFromTracesStopsAtError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := FromTraces("t", "traces", testTraces(), func(Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d records, want stop after 1", err, n)
	}
}
