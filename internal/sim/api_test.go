package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

func TestProvidersAndFilters(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	r := get(t, s, tok, "/api/calm-analytics/v1/analytics/providers", nil)
	var list []AnalyticsProvider
	if err := json.Unmarshal(r.body, &list); err != nil || r.status != 200 {
		t.Fatalf("providers: %v %v", r, err)
	}
	for _, name := range []string{"HM_ANALYTICS_DP", "DP_RUM_REQUEST_TYPES", "DP_JOB_MONITORING", "EXM_DATAPROVIDER",
		"SUM_DATAPROVIDER", "EVENTS", "CPI_MESSAGES", "KPI_HISTORY_TOTALS"} {
		i := slices.IndexFunc(list, func(p AnalyticsProvider) bool { return p.Name == name })
		if i < 0 {
			t.Errorf("provider %s missing", name)
		} else if !slices.Equal(list[i].Version, []string{"v1"}) || list[i].Description == "" || list[i].Domain == "" || list[i].Service == "" {
			t.Errorf("provider %+v incomplete", list[i])
		}
	}
	post := func(body string) resp {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/api/calm-analytics/v1/analytics/providers/filters", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		return do(t, req)
	}
	r = post(`{"providerName":"EXM_DATAPROVIDER","providerVersion":"v1"}`)
	var filters []Filter
	if err := json.Unmarshal(r.body, &filters); err != nil || r.status != 200 {
		t.Fatalf("filters: %v %v", r, err)
	}
	i := slices.IndexFunc(filters, func(f Filter) bool { return f.Key == "serviceId" })
	if i < 0 {
		t.Fatalf("no serviceId filter in %s", r.body)
	}
	var keys, labels []string
	for _, v := range filters[i].Values {
		keys, labels = append(keys, v.Key), append(labels, v.Label)
	}
	if !slices.Equal(keys, s.ServiceIDs()) || !slices.Equal(labels, s.ServiceNames()) || labels[0] != "S4H.100" {
		t.Errorf("serviceId values %v %v", keys, labels)
	}
	if r := post(`{"providerName":"NOPE","providerVersion":"v1"}`); r.status != 404 {
		t.Errorf("unknown provider: %v", r)
	}
	if r := post(`{"providerVersion":"v1"}`); r.status != 428 {
		t.Errorf("no providerName: %v", r)
	}
}

func TestLandscapePaging(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	path := "/api/calm-landscape/v1/landscapeObjects"
	want := s.LandscapeObjects()
	var got []LandscapeObject
	for off := 0; off < len(want); off += 4 {
		r := get(t, s, tok, path, url.Values{"limit": {"4"}, "offset": {strconv.Itoa(off)}})
		var page []LandscapeObject
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatalf("page at offset %d: %v", off, err)
		}
		if r.header.Get("x-total-count") != strconv.Itoa(len(want)) || len(page) > 4 {
			t.Fatalf("offset %d: total %s, %d objects", off, r.header.Get("x-total-count"), len(page))
		}
		got = append(got, page...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages differ from the whole")
	}
	r := get(t, s, tok, path, url.Values{"objectType": {"CloudService"}})
	var cs []LandscapeObject
	if err := json.Unmarshal(r.body, &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 6 || cs[0].LmsID != s.ServiceIDs()[0] || r.header.Get("x-total-count") != "6" {
		t.Errorf("CloudService objects: %d, total %s", len(cs), r.header.Get("x-total-count"))
	}
}

const eventsPath = "/api/bsm-service/v1/events"

func TestEvents(t *testing.T) {
	s, _ := start(t, Config{})
	from, to := t0.Add(-72*time.Hour), t0
	q := url.Values{"startTime": {from.Format(TimeLayout)}, "endTime": {to.Format(TimeLayout)}}
	r := get(t, s, token(t, s), eventsPath, q)
	var evs []Event
	if err := json.Unmarshal(r.body, &evs); err != nil || r.status != 200 {
		t.Fatalf("events: %v %v", r, err)
	}
	if len(evs) == 0 || r.header.Get("x-total-count") != strconv.Itoa(len(evs)) {
		t.Fatalf("%d events, total %s", len(evs), r.header.Get("x-total-count"))
	}
	if !slices.Equal(evs, s.ExpectedEvents(from, to)) {
		t.Error("API differs from ExpectedEvents")
	}
	types := map[string]bool{}
	for _, e := range evs {
		types[e.EventType] = true
		start, err := time.Parse(time.RFC3339, e.EventStartTime)
		if err != nil || !start.Before(to) {
			t.Errorf("event %s starts %q, not before the window's end", e.EventID, e.EventStartTime)
		}
		if e.EventEndTime != "" {
			end, err := time.Parse(time.RFC3339, e.EventEndTime)
			if err != nil || !end.After(from) {
				t.Errorf("event %s ends %q, before the window", e.EventID, e.EventEndTime)
			}
		}
		if e.EventID == "" || e.EventName == "" || e.EventDescription == "" || e.ServiceName == "" || e.ServiceDescription == "" || e.EventStatus == "" {
			t.Errorf("event incomplete: %+v", e)
		}
		if !slices.Contains(eventTypes, e.EventType) {
			t.Errorf("event type %q", e.EventType)
		}
	}
	if len(types) < 3 {
		t.Errorf("only event types %v in three days", types)
	}
	// Filters.
	r = get(t, s, token(t, s), eventsPath, url.Values{"startTime": q["startTime"], "endTime": q["endTime"], "eventType": {"disruption"}, "serviceName": {"S4H.100"}})
	var filtered []Event
	if err := json.Unmarshal(r.body, &filtered); err != nil {
		t.Fatal(err)
	}
	for _, e := range filtered {
		if e.EventType != "Disruption" || e.ServiceName != "S4H.100" {
			t.Errorf("filtered event %+v", e)
		}
	}
	// Paging.
	var paged []Event
	for off := 0; off < len(evs); off += 3 {
		pq := url.Values{"startTime": q["startTime"], "endTime": q["endTime"], "limit": {"3"}, "offset": {strconv.Itoa(off)}}
		var page []Event
		if err := json.Unmarshal(get(t, s, token(t, s), eventsPath, pq).body, &page); err != nil {
			t.Fatalf("page at offset %d: %v", off, err)
		}
		paged = append(paged, page...)
	}
	if !slices.Equal(paged, evs) {
		t.Error("event pages differ from the whole")
	}
}

func TestEventStatusChangesOverTime(t *testing.T) {
	s, clk := start(t, Config{})
	// Find an unplanned event and look at it while it runs and after its end.
	var e simEvent
	found := false
	for _, c := range s.eventsIn([]int{0, 1, 2, 3, 4, 5}, t0.Add(-10*24*time.Hour), t0) {
		if c.typ == "Disruption" || c.typ == "Degradation" {
			e, found = c, true
			break
		}
	}
	if !found {
		t.Fatal("no unplanned event in ten days")
	}
	look := func(at time.Time) Event {
		clk.Set(at)
		for _, ev := range s.ExpectedEvents(e.start, e.start.Add(time.Minute)) {
			if ev.EventID == e.id {
				return ev
			}
		}
		t.Fatalf("event %s not served at %s", e.id, at)
		return Event{}
	}
	open, resolved := look(e.start.Add(time.Minute)), look(e.end.Add(time.Minute))
	if open.EventStatus != "Open" || open.EventEndTime != "" {
		t.Errorf("while open: %s end %q", open.EventStatus, open.EventEndTime)
	}
	if resolved.EventStatus != "Resolved" || resolved.EventEndTime != e.end.Format(time.RFC3339) || resolved.LastChangedAt == open.LastChangedAt {
		t.Errorf("after the end: %+v", resolved)
	}
	clk.Set(e.start.Add(-time.Minute))
	for _, ev := range s.ExpectedEvents(e.start, e.start.Add(time.Minute)) {
		if ev.EventID == e.id {
			t.Error("an unplanned event is visible before it starts")
		}
	}
}

const logsPath = "/api/calm-logs/v1/logs"

func TestLogs(t *testing.T) {
	s, _ := start(t, Config{LogsCap: 50})
	tok := token(t, s)
	from, to := t0.Add(-3*time.Hour), t0
	svc := s.ServiceIDs()[0]
	base := func() url.Values {
		return url.Values{"serviceId": {svc}, "provider": {"exm.im"}, "from": {from.Format(TimeLayout)}, "to": {to.Format(TimeLayout)}, "format": {"protobuf-json"}}
	}
	if r := get(t, s, tok, logsPath, url.Values{}); r.status != 428 || !strings.Contains(string(r.body), "serviceId") {
		t.Errorf("no serviceId: %v", r)
	}
	want := s.ExpectedLogs([]string{svc}, from, to)
	if len(want) <= 50 {
		t.Fatalf("only %d records in three hours; the cap test needs more than 50", len(want))
	}
	r := get(t, s, tok, logsPath, base())
	if r.status != 403 || string(r.body) != `{"error":"Forbidden","message":"Response total count is over the limit"}` {
		t.Errorf("over the cap: %v", r)
	}
	q := base()
	q.Set("limit", "10")
	q.Set("onLimit", "TRUNCATE")
	var got []string
	for off := 0; off < len(want); off += 10 {
		q.Set("offset", strconv.Itoa(off))
		r := get(t, s, tok, logsPath, q)
		if r.status != 200 || r.header.Get("Content-Type") != "application/x-protobuf" || r.header.Get("x-total-count") != strconv.Itoa(len(want)) {
			t.Fatalf("truncate page: %d %v", r.status, r.header)
		}
		ld, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(r.body)
		if err != nil {
			t.Fatalf("decode logs: %v", err)
		}
		for _, rl := range ld.ResourceLogs().All() {
			if v, _ := rl.Resource().Attributes().Get("serviceId"); v.Str() != svc {
				t.Errorf("resource serviceId %q", v.Str())
			}
			for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
				id, _ := lr.Attributes().Get("exceptionId")
				got = append(got, id.Str())
			}
		}
	}
	var wantIDs []string
	for _, rec := range want {
		wantIDs = append(wantIDs, rec.ExceptionID)
	}
	if !slices.Equal(got, wantIDs) {
		t.Errorf("paged log records differ: %d vs %d", len(got), len(wantIDs))
	}
	// Without truncate, a limit under the count is refused too; over it, all is served.
	q = base()
	q.Set("from", t0.Add(-10*time.Minute).Format(TimeLayout))
	small := s.ExpectedLogs([]string{svc}, t0.Add(-10*time.Minute), to)
	q.Set("limit", strconv.Itoa(len(small)+1))
	if r := get(t, s, tok, logsPath, q); r.status != 200 || r.header.Get("x-total-count") != strconv.Itoa(len(small)) {
		t.Errorf("under the limit: %v", r.status)
	}
}

func TestDoubledAPIPathAndUnknownPaths(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	r := get(t, s, tok, "/api/api/calm-metrics/v1/metrics", metricsQuery("hm", wFrom, wTo))
	if r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "<html>") {
		t.Errorf("/api/api: %v", r)
	}
	if r := get(t, s, tok, "/api/calm-nothing/v1/x", nil); r.status != 404 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown API path: %v", r)
	}
	if r := get(t, s, tok, "/elsewhere", nil); r.status != 404 {
		t.Errorf("non-API path: %v", r)
	}
}

func TestCounters(t *testing.T) {
	s, _ := start(t, Config{})
	tok := token(t, s)
	before := s.BytesServed()
	r1 := get(t, s, tok, "/api/calm-analytics/v1/analytics/providers", nil)
	r2 := get(t, s, tok, "/api/calm-analytics/v1/analytics/providers", nil)
	req := s.Requests()
	if req["/api/calm-analytics/v1/analytics/providers"] != 2 || req["/oauth/token"] != 1 {
		t.Errorf("requests %v", req)
	}
	if got := s.BytesServed() - before; got != int64(len(r1.body)+len(r2.body)) {
		t.Errorf("bytes served %d, bodies %d", got, len(r1.body)+len(r2.body))
	}
}
