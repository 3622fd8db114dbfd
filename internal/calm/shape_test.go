package calm

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A 200 whose body is an error object, or JSON without the expected top-level field, is an API
// error: retried like a 5xx, never an empty page, reported with SAP's message and the
// x-correlationid.
func TestTwoHundredThatIsNotDataIsAnAPIError(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"error object", `{"error":"internal","message":"backend unavailable"}`, "the answer is not data but an error object: internal: backend unavailable"},
		{"OData error", `{"error":{"code":"500","message":"boom"}}`, "an error object: 500: boom"},
		{"other JSON", `{"data":[],"count":3}`, "JSON without the expected top-level field resourceMetrics (it has count, data)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := newTenant(t)
			var calls int
			tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.Header().Set("X-Correlationid", "corr-42")
				writeJSON(w, 3, []byte(tc.body))
			})
			r := collectMetrics(tn.client(func(o *Options) { o.MaxRetries = 2 }), MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
			var ae *APIError
			if !errors.As(r.err, &ae) || ae.NotData == "" || !strings.Contains(r.err.Error(), tc.want) || !strings.Contains(r.err.Error(), "x-correlationid corr-42") {
				t.Fatalf("err = %v; want an API error with %q and the correlation id", r.err, tc.want)
			}
			if calls != 3 || r.points != 0 {
				t.Errorf("%d calls, %d points; want 3 calls (retried like a 5xx) and no page", calls, r.points)
			}
		})
	}
}

// An error body that goes away on retry costs a retry, not the data.
func TestTwoHundredErrorBodyRetried(t *testing.T) {
	tn := newTenant(t)
	var calls int
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			writeJSON(w, -1, []byte(`{"error":"busy","message":"try again"}`))
			return
		}
		writeJSON(w, 3, readTestdata(t, "metrics_hm_page1.json"))
	})
	c := tn.client(func(o *Options) { o.MaxRetries = 2; o.PageSize = 3 })
	r := collectMetrics(c, MetricsQuery{Provider: "hm", From: winFrom, To: winTo})
	if r.err != nil || r.points != 3 || c.Stats().Retries != 1 {
		t.Errorf("err %v, %d points, %d retries; want the 3 points after 1 retry", r.err, r.points, c.Stats().Retries)
	}
}

func TestShapeNotData(t *testing.T) {
	for _, tc := range []struct {
		s       shape
		body    string
		notData bool
	}{
		{shapeMetrics, ``, false}, {shapeMetrics, `{}`, false}, {shapeMetrics, `null`, false},
		{shapeMetrics, `{"resourceMetrics":[]}`, false}, {shapeMetrics, `{"message":"x"}`, true},
		{shapeLogs, "\x0a\x02\x0a\x00", false}, {shapeLogs, `{}`, false}, {shapeLogs, `{"error":"x"}`, true},
		{shapeList, `[]`, false}, {shapeList, `{"value":[]}`, false}, {shapeList, `{"error":"x"}`, true},
		{shapeList, `{"events":[]}`, true}, {shapeAny, `{"error":"x"}`, false},
		{shapeMetrics, `not json`, false}, // the decoder reports it
	} {
		if got := tc.s.notData([]byte(tc.body)) != ""; got != tc.notData {
			t.Errorf("shape %d body %q: not data = %v, want %v", tc.s, tc.body, got, tc.notData)
		}
	}
}
