package sim

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

const tracesPath = "/api/calm-traces/v1/traces"

// The spans of a range are the spans of its windows, each once, whatever the window size: a
// collector that reads window by window gets every span exactly once. A child span may start
// in a later window than its root; every child's parent is a span of the trace.
func TestTracesPartitionIntoWindows(t *testing.T) {
	s, _ := start(t, Config{})
	from, to := t0.Add(-3*time.Hour), t0
	ids := s.ServiceIDs()
	whole := s.ExpectedSpans(ids, from, to, true)
	if len(whole) < 100 {
		t.Fatalf("only %d spans in three hours", len(whole))
	}
	for _, step := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour} {
		var parts []Span
		for w := from; w.Before(to); w = w.Add(step) {
			parts = append(parts, s.ExpectedSpans(ids, w, w.Add(step), true)...)
		}
		if !sameSpans(parts, whole) {
			t.Errorf("windows of %s: %d spans, the whole range %d", step, len(parts), len(whole))
		}
	}
	bySpan := map[string]Span{}
	crossing := 0
	for _, sp := range s.ExpectedSpans(ids, from.Add(-time.Minute), to, true) {
		bySpan[sp.TraceID+"/"+sp.SpanID] = sp
	}
	for _, sp := range whole {
		if sp.ParentSpanID == "" {
			continue
		}
		p, ok := bySpan[sp.TraceID+"/"+sp.ParentSpanID]
		if !ok || !p.Start.Before(sp.Start) {
			t.Errorf("span %s/%s: parent %s missing or not before it", sp.TraceID, sp.SpanID, sp.ParentSpanID)
		}
		if p.Start.Truncate(time.Minute) != sp.Start.Truncate(time.Minute) {
			crossing++
		}
	}
	if crossing == 0 {
		t.Error("no child span starts in another minute than its root: the window edges are not exercised")
	}
}

// sameSpans reports whether a and b hold the same spans, each once.
func sameSpans(a, b []Span) bool {
	key := func(sp Span) string { return sp.TraceID + "/" + sp.SpanID + "@" + sp.Start.String() }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i := range a {
		ka[i] = key(a[i])
	}
	for i := range b {
		kb[i] = key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb) && len(slices.Compact(slices.Clone(ka))) == len(ka)
}

// Traces of a minute not yet complete are not served: at t0 nothing starts after the last
// complete minute's traces (a child starts at most 3 s after its root), and two minutes later
// the minutes completed since add spans.
func TestTracesOnlyCompleteMinutes(t *testing.T) {
	s, clock := start(t, Config{})
	ids := s.ServiceIDs()
	before := s.ExpectedSpans(ids, t0.Add(-time.Minute), t0.Add(time.Minute), true)
	clock.Advance(2 * time.Minute)
	after := s.ExpectedSpans(ids, t0.Add(-time.Minute), t0.Add(time.Minute), true)
	for _, sp := range before {
		if sp.Start.After(t0.Add(3 * time.Second)) {
			t.Errorf("span %s of an incomplete minute served at t0 (starts %s)", sp.SpanID, sp.Start)
		}
	}
	kept := slices.DeleteFunc(slices.Clone(after), func(sp Span) bool { return !slices.Contains(before, sp) })
	if len(after) <= len(before) || !sameSpans(kept, before) {
		t.Errorf("%d spans at t0, %d two minutes later (%d of the first): want the first ones and more", len(before), len(after), len(kept))
	}
}

func TestTracesHTTP(t *testing.T) {
	s, _ := start(t, Config{LogsCap: 20})
	tok := token(t, s)
	svc := s.ServiceIDs()[0]
	from, to := t0.Add(-time.Hour), t0
	base := func() url.Values {
		return url.Values{"provider": {"rum"}, "serviceId": {svc}, "from": {from.Format(TimeLayout)}, "to": {to.Format(TimeLayout)}, "format": {"protobuf-json"}}
	}
	for _, tt := range []struct {
		drop, set, value string
		status           int
		text             string
	}{
		{drop: "provider", status: 428, text: "provider"},
		{drop: "serviceId", status: 428, text: "serviceId"},
		{set: "provider", value: "hm", status: 400, text: `serves no traces`},
		{status: 403, text: "Response total count is over the limit"},
	} {
		q := base()
		q.Del(tt.drop)
		if tt.set != "" {
			q.Set(tt.set, tt.value)
		}
		if r := get(t, s, tok, tracesPath, q); r.status != tt.status || !strings.Contains(string(r.body), tt.text) {
			t.Errorf("%+v: %v", tt, r)
		}
	}
	want := s.ExpectedSpans([]string{svc}, from, to, true)
	q := base()
	q.Set("limit", "7")
	q.Set("onLimit", "truncate")
	var got []string
	for off := 0; off < len(want); off += 7 {
		q.Set("offset", strconv.Itoa(off))
		r := get(t, s, tok, tracesPath, q)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" || r.header.Get("x-total-count") != strconv.Itoa(len(want)) {
			t.Fatalf("page at %d: %v %v", off, r, r.header)
		}
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(r.body)
		if err != nil {
			t.Fatalf("decode traces: %v", err)
		}
		got = append(got, spanKeys(td)...)
	}
	var wantKeys []string
	for _, sp := range want {
		wantKeys = append(wantKeys, sp.TraceID+"/"+sp.SpanID+" "+sp.User)
	}
	if !slices.Equal(got, wantKeys) {
		t.Errorf("paged spans differ: %d vs %d\n%v\n%v", len(got), len(wantKeys), got, wantKeys)
	}
}

func spanKeys(td ptrace.Traces) []string {
	var out []string
	for _, rs := range td.ResourceSpans().All() {
		for _, sp := range rs.ScopeSpans().At(0).Spans().All() {
			u, _ := sp.Attributes().Get("user.name")
			out = append(out, sp.TraceID().String()+"/"+sp.SpanID().String()+" "+u.Str())
		}
	}
	return out
}

// User names come only with calm-api.rum.personal.read; without it every span carries a
// pseudonym that is none of the names, the same for the same user.
func TestTracesPersonalData(t *testing.T) {
	for _, personal := range []bool{true, false} {
		scopes := slices.Clone(AllScopes)
		if !personal {
			scopes = slices.DeleteFunc(scopes, func(s string) bool { return s == ScopeRUMUsers })
		}
		s, _ := start(t, Config{Scopes: scopes})
		q := url.Values{"provider": {"rum"}, "serviceId": {s.ServiceIDs()[1]}, "from": {t0.Add(-time.Hour).Format(TimeLayout)},
			"to": {t0.Format(TimeLayout)}, "onLimit": {"truncate"}}
		r := get(t, s, token(t, s), tracesPath, q)
		td, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(r.body)
		if r.status != 200 || err != nil || td.SpanCount() == 0 {
			t.Fatalf("personal=%v: %v, %v, %d spans", personal, r.status, err, td.SpanCount())
		}
		for _, k := range spanKeys(td) {
			user := k[strings.IndexByte(k, ' ')+1:]
			if slices.Contains(rumUsers, user) != personal || (!personal && !strings.HasPrefix(user, "anonymous-")) {
				t.Errorf("personal=%v: user %q", personal, user)
			}
		}
	}
}
