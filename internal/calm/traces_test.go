package calm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

const tracesPath = "/api/calm-traces/v1/traces"

// tracesDoc builds an OTLP traces payload with spans [from, from+n), each named after its number.
func tracesDoc(from, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("serviceId", logService)
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for i := from; i < from+n; i++ {
		sp := spans.AppendEmpty()
		sp.SetName(fmt.Sprintf("span %d", i))
		sp.SetTraceID(pcommon.TraceID{1, byte(i)})
		sp.SetSpanID(pcommon.SpanID{2, byte(i)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(winFrom.Add(time.Duration(i) * time.Second)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(winFrom.Add(time.Duration(i)*time.Second + 300*time.Millisecond)))
	}
	return td
}

// tracesQuery is the exact query Traces sends for rum, logService, winFrom–winTo.
func tracesQuery(limit string) url.Values {
	return url.Values{
		"version": {"V1"}, "provider": {"rum"}, "serviceId": {logService}, "from": {"20261125100000"}, "to": {"20261125100500"},
		"format": {"protobuf-json"}, "limit": {limit}, "offset": {"0"}, "onLimit": {"truncate"},
	}
}

func collectTraces(c *Client, q TracesQuery) (names []string, offsets []int, err error) {
	for p, err := range c.Traces(context.Background(), q) {
		if err != nil {
			return names, offsets, err
		}
		if p.Spans != p.Traces.SpanCount() {
			return names, offsets, fmt.Errorf("page at %d: Spans %d, spans %d", p.Offset, p.Spans, p.Traces.SpanCount())
		}
		offsets = append(offsets, p.Offset)
		for _, rs := range p.Traces.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					names = append(names, sp.Name())
				}
			}
		}
	}
	return names, offsets, nil
}

func spanNames(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("span %d", i))
	}
	return out
}

// tracesServer serves the traces API like logsServer serves the logs API.
func tracesServer(t *testing.T, tn *tenant, want url.Values, serve func(w http.ResponseWriter, limit, offset int)) *[]string {
	return rawServer(t, tn, tracesPath, want, serve)
}

func TestTracesPagesProtobufAndQuery(t *testing.T) {
	tn := newTenant(t)
	const total = 7
	asked := tracesServer(t, tn, tracesQuery("3"), func(w http.ResponseWriter, limit, offset int) {
		b, err := ptraceotlp.NewExportRequestFromTraces(tracesDoc(offset, min(limit, total-offset))).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		w.Write(b)
	})
	names, offsets, err := collectTraces(tn.client(func(o *Options) { o.PageSize = 3 }),
		TracesQuery{Provider: "rum", ServiceID: logService, From: winFrom, To: winTo})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, spanNames(0, total)) || !reflect.DeepEqual(offsets, []int{0, 3, 6}) {
		t.Errorf("spans %v offsets %v", names, offsets)
	}
	if want := []string{"3@0", "3@3", "3@6"}; !reflect.DeepEqual(*asked, want) {
		t.Errorf("requests %v, want %v", *asked, want)
	}
}

func TestTracesJSONAnswer(t *testing.T) {
	tn := newTenant(t)
	tracesServer(t, tn, tracesQuery("5000"), func(w http.ResponseWriter, _, _ int) {
		b, err := ptraceotlp.NewExportRequestFromTraces(tracesDoc(0, 2)).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		writeJSON(w, 2, b)
	})
	names, _, err := collectTraces(tn.client(nil), TracesQuery{Provider: "rum", ServiceID: logService, From: winFrom, To: winTo})
	if err != nil || !reflect.DeepEqual(names, spanNames(0, 2)) {
		t.Errorf("spans %v, err %v", names, err)
	}
}

// An error object with a 200 is an API error (retried, then the window held), not no spans.
func TestTracesErrorObjectIsNotData(t *testing.T) {
	tn := newTenant(t)
	tracesServer(t, tn, tracesQuery("5000"), func(w http.ResponseWriter, _, _ int) {
		writeJSON(w, -1, []byte(`{"error":"Internal","message":"trace store unavailable"}`))
	})
	_, _, err := collectTraces(tn.client(func(o *Options) { o.MaxRetries = -1 }),
		TracesQuery{Provider: "rum", ServiceID: logService, From: winFrom, To: winTo})
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("err = %v, want an *APIError", err)
	}
}

func TestTracesOverLimitAndBadQuery(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("GET "+tracesPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"Forbidden","message":"Response total count is over the limit"}`))
	})
	c := tn.client(nil)
	if _, _, err := collectTraces(c, TracesQuery{Provider: "rum", From: winFrom, To: winTo}); !errors.Is(err, ErrOverLimit) {
		t.Errorf("err = %v, want ErrOverLimit", err)
	}
	for _, tt := range []struct {
		q    TracesQuery
		want string
	}{
		{TracesQuery{From: winFrom, To: winTo}, "traces of provider  20261125100000–20261125100500: provider must be set (the traces API serves rum)"},
		{TracesQuery{Provider: "rum", ServiceID: "s", From: winTo, To: winTo}, "traces of provider rum service s 20261125100500–20261125100500: to must be after from"},
	} {
		if _, _, err := collectTraces(c, tt.q); err == nil || err.Error() != tt.want {
			t.Errorf("err = %v, want %s", err, tt.want)
		}
	}
}
