package calm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProviders(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("GET "+providersPath, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			t.Errorf("query = %q, want none", r.URL.RawQuery)
		}
		writeJSON(w, -1, readTestdata(t, "providers.json"))
	})
	ps, err := tn.client(nil).Providers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Provider{
		{Name: "HM_ANALYTICS_DP", Description: "Health Monitoring", Service: "calm-metrics", Domain: "hm", Version: []string{"v1"}},
		{Name: "EXM_DATAPROVIDER", Description: "Exception Monitoring", Service: "calm-analytics", Domain: "exm", Version: []string{"v1"}},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("Providers = %+v, want %+v", ps, want)
	}
}

func filtersHandler(t *testing.T, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"providerName":"EXM_DATAPROVIDER","providerVersion":"v1"}` {
			t.Errorf("body = %s", b)
		}
		writeJSON(w, -1, readTestdata(t, "filters_exm.json"))
	}
}

func TestProviderFiltersAndServices(t *testing.T) {
	tn := newTenant(t)
	var calls atomic.Int32
	tn.mux.Handle("POST /api/calm-analytics/v1/analytics/providers/filters", filtersHandler(t, &calls))
	c := tn.client(nil)
	fs, err := c.ProviderFilters(context.Background(), "EXM_DATAPROVIDER", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[1].Key != "serviceId" || fs[1].Name != "Service" || fs[1].Type != "string" || len(fs[1].Values) != 2 {
		t.Errorf("filters = %+v", fs)
	}
	svcs, err := c.Services(context.Background(), "EXM_DATAPROVIDER")
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{{ID: "0f4e1a2b-1111-4c3d-9e8f-000000000001", Name: "S4H.100"}, {ID: "0f4e1a2b-2222-4c3d-9e8f-000000000002", Name: "BTP.CF.EU10"}}
	if !reflect.DeepEqual(svcs, want) || calls.Load() != 2 {
		t.Errorf("Services = %+v (calls %d), want %+v", svcs, calls.Load(), want)
	}
}

func TestServicesWithoutServiceFilter(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("POST /api/calm-analytics/v1/analytics/providers/filters", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, -1, []byte(`[{"key":"serviceType","values":[]}]`))
	})
	_, err := tn.client(nil).Services(context.Background(), "EVENTS")
	if err == nil || err.Error() != "list services: provider EVENTS has no serviceId filter" {
		t.Errorf("err = %v", err)
	}
}

var (
	winFrom = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	winTo   = time.Date(2026, 11, 25, 10, 5, 0, 0, time.UTC)
)

// metricsServer serves pages of metrics and checks every query parameter but offset, which it
// returns to serve(offset) -> (body, total).
func metricsServer(t *testing.T, tn *tenant, want url.Values, serve func(offset int) ([]byte, int)) *atomic.Int32 {
	var n atomic.Int32
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		q := r.URL.Query()
		var offset int
		if _, err := fmt.Sscan(q.Get("offset"), &offset); err != nil {
			t.Errorf("offset %q: %v", q.Get("offset"), err)
		}
		q.Del("offset")
		if !reflect.DeepEqual(q, want) {
			t.Errorf("query =\n%v\nwant\n%v", q, want)
		}
		body, total := serve(offset)
		w.Header().Set("X-Correlationid", fmt.Sprintf("corr-%d", offset))
		writeJSON(w, total, body)
	})
	return &n
}

func baseMetricsQuery(limit string) url.Values {
	return url.Values{
		"version": {"V1"}, "provider": {"hm"}, "from": {"20261125100000"}, "to": {"20261125100500"},
		"resolution": {"5Mi"}, "format": {"protobuf-json"}, "preserveTimeStamp": {"true"},
		"limit": {limit}, "onLimit": {"TRUNCATE"},
	}
}

type metricsResult struct {
	pages   []MetricsPage
	offsets []int
	points  int
	err     error
}

func collectMetrics(c *Client, q MetricsQuery) metricsResult {
	var r metricsResult
	for p, err := range c.Metrics(context.Background(), q) {
		if err != nil {
			r.err = err
			break
		}
		r.pages = append(r.pages, p)
		r.offsets = append(r.offsets, p.Offset)
		r.points += p.Points
	}
	return r
}

func TestMetricsPagesAndQuery(t *testing.T) {
	tn := newTenant(t)
	page1, page2 := readTestdata(t, "metrics_hm_page1.json"), readTestdata(t, "metrics_hm_page2.json")
	n := metricsServer(t, tn, baseMetricsQuery("3"), func(offset int) ([]byte, int) {
		switch offset {
		case 0:
			return page1, 5
		case 3:
			return page2, 5
		}
		t.Errorf("unexpected offset %d", offset)
		return nil, 5
	})
	c := tn.client(func(o *Options) { o.PageSize = 3 })
	r := collectMetrics(c, MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n.Load() != 2 || !reflect.DeepEqual(r.offsets, []int{0, 3}) || r.points != 5 {
		t.Fatalf("calls %d offsets %v points %d", n.Load(), r.offsets, r.points)
	}
	p := r.pages[0]
	if p.Total != 5 || p.Points != 3 || p.Bytes != len(page1) {
		t.Errorf("page 1 = total %d points %d bytes %d", p.Total, p.Points, p.Bytes)
	}
	rm := p.Metrics.ResourceMetrics().At(0)
	if v, _ := rm.Resource().Attributes().Get("serviceName"); v.Str() != "S4H.100" {
		t.Errorf("resource serviceName = %q", v.Str())
	}
	m := rm.ScopeMetrics().At(0).Metrics().At(0)
	dp := m.Gauge().DataPoints().At(0)
	if m.Name() != "value" || m.Unit() != "%" || dp.DoubleValue() != 12.5 || dp.Timestamp().AsTime() != time.Unix(0, 1795687200000000000).UTC() {
		t.Errorf("first point = %s %s %v at %v", m.Name(), m.Unit(), dp.DoubleValue(), dp.Timestamp().AsTime())
	}
	if v, _ := dp.Attributes().Get("serviceId"); v.Str() != "0f4e1a2b-1111-4c3d-9e8f-000000000001" {
		t.Errorf("point serviceId = %q", v.Str())
	}
	if s := rm.ScopeMetrics().At(0).Metrics().At(1).Sum().DataPoints().At(0); s.IntValue() != 42 {
		t.Errorf("sum point = %d", s.IntValue())
	}
	h := r.pages[1].Metrics.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(1).Histogram().DataPoints().At(0)
	if h.Count() != 3 || h.Sum() != 120 {
		t.Errorf("histogram = count %d sum %v", h.Count(), h.Sum())
	}
}

func TestMetricsOptionalParameters(t *testing.T) {
	tn := newTenant(t)
	want := baseMetricsQuery("100")
	want.Set("resolution", "1Mi")
	want.Set("dimensions", "serviceId,serviceName")
	want.Set("metrics", "measure:value,measure:usage")
	want.Set("serviceId", "a,b,c")
	want.Set("serviceType", "S4HANA_CLOUD")
	n := metricsServer(t, tn, want, func(int) ([]byte, int) { return readTestdata(t, "metrics_empty.json"), 0 })
	r := collectMetrics(tn.client(nil), MetricsQuery{
		Provider: "hm", From: winFrom.In(time.FixedZone("CET", 3600)), To: winTo, Resolution: "1Mi",
		Dimensions: []string{"serviceId", "serviceName"}, Metrics: []string{"measure:value", "measure:usage"},
		ServiceIDs: []string{"a", "b", "c"}, ServiceType: "S4HANA_CLOUD", PageSize: 100,
	})
	if r.err != nil || n.Load() != 1 || len(r.pages) != 1 || r.points != 0 {
		t.Errorf("err %v calls %d pages %d points %d; want one empty page", r.err, n.Load(), len(r.pages), r.points)
	}
}

func TestMetricsPagingGuards(t *testing.T) {
	page1 := readTestdata(t, "metrics_hm_page1.json")
	// pointsDoc builds a gauge page with points [from, from+n), each distinct.
	pointsDoc := func(from, n int) []byte {
		var dps []string
		for i := from; i < from+n; i++ {
			dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d}`, 1795687200000000000+int64(i)*1e9, i))
		}
		return []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"value","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`)
	}
	twoMeasures := []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[` +
		`{"name":"value","gauge":{"dataPoints":[{"timeUnixNano":"1795687200000000000","asDouble":1},{"timeUnixNano":"1795687201000000000","asDouble":2},{"timeUnixNano":"1795687202000000000","asDouble":3}]}},` +
		`{"name":"usage","gauge":{"dataPoints":[{"timeUnixNano":"1795687200000000000","asDouble":4},{"timeUnixNano":"1795687201000000000","asDouble":5},{"timeUnixNano":"1795687202000000000","asDouble":6}]}}]}]}]}`)
	tests := []struct {
		name     string
		limit    int
		maxPages int
		serve    func(offset int) ([]byte, int)
		calls    int32
		offsets  []int
		points   int
		wantErr  error
		errText  string
		logged   string
	}{
		{
			name: "server ignores offset", limit: 3,
			serve: func(int) ([]byte, int) { return page1, 10 },
			calls: 2, offsets: []int{0}, points: 3, wantErr: ErrRepeatedPage,
			errText: "metrics hm 20261125100000–20261125100500 at offset 3 (x-correlationid corr-3): server repeated the previous page (it seems to ignore offset)",
		},
		{
			// a capped page repeated while the total says more is not the end: the rest would be skipped
			name: "server caps pages and ignores offset", limit: 3,
			serve: func(int) ([]byte, int) { return pointsDoc(0, 2), 6 },
			calls: 2, offsets: []int{0}, points: 2, wantErr: ErrRepeatedPage,
		},
		{
			// two measures a row: 6 points in 3 rows, short in both units; repeated at offset 3
			name: "server ignores offset and sends everything at once", limit: 10,
			serve: func(int) ([]byte, int) { return twoMeasures, 6 },
			calls: 2, offsets: []int{0}, points: 6,
		},
		{
			// the same page while the total says 9: under rows paging 6 rows are missing
			name: "server ignores offset and the total says more", limit: 10,
			serve: func(int) ([]byte, int) { return twoMeasures, 9 },
			calls: 2, offsets: []int{0}, points: 6, wantErr: ErrRepeatedPage,
		},
		{
			name: "server ignores limit and sends everything", limit: 3,
			serve: func(int) ([]byte, int) { return pointsDoc(0, 5), 5 },
			calls: 1, offsets: []int{0}, points: 5,
		},
		{
			name: "page larger than limit without a total", limit: 3,
			serve: func(int) ([]byte, int) { return pointsDoc(0, 7), -1 },
			calls: 1, offsets: []int{0}, points: 7, logged: "the server ignores limit",
		},
		{
			// a short page may be a server's cap: without a total, only an empty page ends
			name: "short page without a total goes on to an empty page", limit: 3,
			serve: func(offset int) ([]byte, int) {
				switch offset {
				case 0:
					return pointsDoc(0, 3), -1
				case 3:
					return pointsDoc(offset, 2), -1
				}
				return readTestdata(t, "metrics_empty.json"), -1
			},
			calls: 3, offsets: []int{0, 3, 5}, points: 5,
		},
		{
			name: "empty page before the total fails the window", limit: 3,
			serve: func(offset int) ([]byte, int) {
				if offset == 0 {
					return page1, 9
				}
				return readTestdata(t, "metrics_empty.json"), 9
			},
			calls: 2, offsets: []int{0, 3}, points: 3, wantErr: ErrIncompletePage,
			errText: "metrics hm 20261125100000–20261125100500: page 2 at offset 3 (x-correlationid corr-3) is empty while x-total-count says 9 (limit 3); the window is held and read again next run: page cannot be reconciled with x-total-count",
		},
		{
			// rows that came while paging may sort before the offset: read again from 0
			name: "total grows between pages", limit: 3,
			serve: func() func(int) ([]byte, int) {
				grown := false
				return func(offset int) ([]byte, int) {
					if !grown && offset == 0 {
						grown = true
						return pointsDoc(0, 3), 5
					}
					return pointsDoc(offset, min(3, 8-offset)), 8
				}
			}(),
			calls: 5, offsets: []int{0, 0, 3, 6}, points: 11, logged: "total count changed while paging",
		},
		{
			name: "a server capping pages below the limit", limit: 3,
			serve: func(offset int) ([]byte, int) { return pointsDoc(offset, 1), 6 },
			calls: 6, offsets: []int{0, 1, 2, 3, 4, 5}, points: 6,
		},
		{
			name: "hard cap without a total", limit: 2, maxPages: 5,
			serve: func(offset int) ([]byte, int) { return pointsDoc(offset, 2), -1 },
			calls: 5, offsets: []int{0, 2, 4, 6, 8}, points: 10, wantErr: ErrTooManyPages,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			n := metricsServer(t, tn, baseMetricsQuery(fmt.Sprint(tt.limit)), tt.serve)
			c := tn.client(func(o *Options) { o.PageSize = tt.limit })
			if tt.maxPages > 0 {
				c.maxPages = tt.maxPages
			}
			r := collectMetrics(c, MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
			if !errors.Is(r.err, tt.wantErr) || (tt.wantErr == nil) != (r.err == nil) {
				t.Errorf("err = %v, want %v", r.err, tt.wantErr)
			}
			if tt.errText != "" && (r.err == nil || r.err.Error() != tt.errText) {
				t.Errorf("err =\n%v\nwant\n%s", r.err, tt.errText)
			}
			if n.Load() != tt.calls || !reflect.DeepEqual(r.offsets, tt.offsets) || r.points != tt.points {
				t.Errorf("calls %d offsets %v points %d; want %d %v %d", n.Load(), r.offsets, r.points, tt.calls, tt.offsets, tt.points)
			}
			if tt.logged != "" && !strings.Contains(tn.logs.String(), tt.logged) {
				t.Errorf("log lacks %q:\n%s", tt.logged, tn.logs)
			}
		})
	}
}

func TestMetricsBadBody(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 1, []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"timeUnixNano":"notanumber"}]}}]}]}]}`))
	})
	r := collectMetrics(tn.client(nil), MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	if r.err == nil || !strings.HasPrefix(r.err.Error(), "metrics hm 20261125100000–20261125100500 at offset 0: decode OTLP JSON (Content-Type \"application/json\"): ") {
		t.Errorf("err = %v", r.err)
	}
	if r = collectMetrics(tn.client(nil), MetricsQuery{From: winFrom, To: winTo}); r.err == nil || !strings.Contains(r.err.Error(), "provider must be set") {
		t.Errorf("empty provider: err = %v", r.err)
	}
	if r = collectMetrics(tn.client(nil), MetricsQuery{Provider: "hm", From: winTo, To: winFrom}); r.err == nil || !strings.Contains(r.err.Error(), "to after from") {
		t.Errorf("reversed window: err = %v", r.err)
	}
}

func TestMetricsStopsWhenCallerStops(t *testing.T) {
	tn := newTenant(t)
	n := metricsServer(t, tn, baseMetricsQuery("3"), func(offset int) ([]byte, int) { return readTestdata(t, "metrics_hm_page1.json"), 100 })
	c := tn.client(func(o *Options) { o.PageSize = 3 })
	for _, err := range c.Metrics(context.Background(), MetricsQuery{Provider: "hm", From: winFrom, To: winTo}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if n.Load() != 1 {
		t.Errorf("calls = %d, want 1", n.Load())
	}
}

// eventsServer checks the events query and answers serve(offset, limit) -> (body, total).
func eventsServer(t *testing.T, tn *tenant, want url.Values, serve func(offset, limit int) ([]byte, int)) *atomic.Int32 {
	var n atomic.Int32
	tn.mux.HandleFunc("GET /api/bsm-service/v1/events", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		q := r.URL.Query()
		var offset, limit int
		_, _ = fmt.Sscan(q.Get("offset"), &offset)
		_, _ = fmt.Sscan(q.Get("limit"), &limit)
		q.Del("offset")
		if !reflect.DeepEqual(q, want) {
			t.Errorf("query =\n%v\nwant\n%v", q, want)
		}
		body, total := serve(offset, limit)
		writeJSON(w, total, body)
	})
	return &n
}

func TestStatusEvents(t *testing.T) {
	all := readTestdata(t, "events.json")
	var events []json.RawMessage
	if err := json.Unmarshal(all, &events); err != nil {
		t.Fatal(err)
	}
	slice := func(offset, limit int) []byte {
		end := min(offset+limit, len(events))
		if offset >= end {
			return []byte("[]")
		}
		b, _ := json.Marshal(events[offset:end])
		return b
	}
	baseQuery := func(limit string) url.Values {
		return url.Values{"startTime": {"20261125100000"}, "endTime": {"20261125100500"}, "limit": {limit}}
	}
	tests := []struct {
		name    string
		query   EventsQuery
		want    url.Values
		serve   func(offset, limit int) ([]byte, int)
		calls   int32
		ids     []string
		wantErr error
	}{
		{
			name:  "paged without a total",
			query: EventsQuery{From: winFrom, To: winTo, PageSize: 2},
			want:  baseQuery("2"),
			serve: func(offset, limit int) ([]byte, int) { return slice(offset, limit), -1 },
			calls: 4, ids: []string{"ev-0", "ev-1", "ev-2", "ev-3", "ev-4"},
		},
		{
			name:  "paged with a total and filters",
			query: EventsQuery{From: winFrom, To: winTo, PageSize: 2, Type: "BSM", EventType: "Disruption", ServiceName: "S4H.100"},
			want: func() url.Values {
				q := baseQuery("2")
				q.Set("type", "BSM")
				q.Set("eventType", "Disruption")
				q.Set("serviceName", "S4H.100")
				return q
			}(),
			serve: func(offset, limit int) ([]byte, int) { return slice(offset, limit), 5 },
			calls: 3, ids: []string{"ev-0", "ev-1", "ev-2", "ev-3", "ev-4"},
		},
		{
			name:  "collection ignoring limit and offset",
			query: EventsQuery{From: winFrom, To: winTo, PageSize: 2},
			want:  baseQuery("2"),
			serve: func(int, int) ([]byte, int) { return all, -1 },
			calls: 1, ids: []string{"ev-0", "ev-1", "ev-2", "ev-3", "ev-4"},
		},
		{
			name:  "collection ignoring offset only",
			query: EventsQuery{From: winFrom, To: winTo, PageSize: 2},
			want:  baseQuery("2"),
			serve: func(_, limit int) ([]byte, int) { return slice(0, limit), -1 },
			calls: 2, ids: []string{"ev-0", "ev-1"}, wantErr: ErrRepeatedPage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := newTenant(t)
			n := eventsServer(t, tn, tt.want, tt.serve)
			var ids []string
			var gotErr error
			var first StatusEvent
			for ev, err := range tn.client(nil).StatusEvents(context.Background(), tt.query) {
				if err != nil {
					gotErr = err
					break
				}
				if len(ids) == 0 {
					first = ev
				}
				ids = append(ids, ev.EventID)
			}
			if !errors.Is(gotErr, tt.wantErr) || (tt.wantErr == nil) != (gotErr == nil) {
				t.Errorf("err = %v, want %v", gotErr, tt.wantErr)
			}
			if n.Load() != tt.calls || !reflect.DeepEqual(ids, tt.ids) {
				t.Errorf("calls %d ids %v; want %d %v", n.Load(), ids, tt.calls, tt.ids)
			}
			want := StatusEvent{EventID: "ev-0", EventType: "Maintenance", EventName: "Event 0", EventDescription: "desc 0",
				EventStatus: "Open", ServiceName: "S4H.100", ServiceDescription: "S/4HANA",
				EventStartTime: "20261125100000", EventEndTime: "20261125110000"}
			fields := first.Fields
			first.Fields = nil
			if !reflect.DeepEqual(first, want) {
				t.Errorf("first event = %+v\nwant %+v", first, want)
			}
			if fields["priority"] != "0" || fields["tags"] != `["a"]` || fields["eventId"] != "ev-0" || len(fields) != 11 {
				t.Errorf("fields = %v", fields)
			}
		})
	}
}

func TestStatusEventsNotAnArray(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("GET /api/bsm-service/v1/events", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, -1, []byte(`{"value":[]}`))
	})
	for _, err := range tn.client(nil).StatusEvents(context.Background(), EventsQuery{From: winFrom, To: winTo}) {
		if err == nil || !strings.Contains(err.Error(), "status events 20261125100000–20261125100500 at offset 0: decode: the answer is not a JSON array of events") {
			t.Errorf("err = %v", err)
		}
	}
}
