package calm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const analyticsDataPath = "/api/calm-analytics/v1/analytics/providers/data"

// The body is SAP's Data (REST) time_series form, one query per measure; the answer's series
// become points of their query's measure.
func TestAnalyticsData(t *testing.T) {
	tn := newTenant(t)
	var got map[string]any
	tn.mux.HandleFunc("POST "+analyticsDataPath, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[[{"serieName":"kpiValue","attributes":[{"key":"kpiId","value":"K1"},{"key":"n","value":3}],
		  "dataPoints":[[1.5,1764064800000],[null,1764065100000],["2.25",1764065100000]]}],[]]`)
	})
	from := time.Date(2025, 11, 25, 10, 0, 0, 0, time.UTC)
	pts, err := tn.client(nil).AnalyticsData(context.Background(), AnalyticsQuery{Provider: "KPI_HISTORY_TOTALS", Dimensions: []string{"kpiId"},
		Measures: []string{"kpiValue", "other"}, Methods: map[string]string{"kpiValue": "AVG"},
		Filters: []AnalyticsFilter{{Key: "kpiId", Values: []string{"K1"}}}, From: from, To: from.Add(time.Hour), Resolution: "5Mi"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 2 || pts[0].Value != 1.5 || !pts[0].Time.Equal(from) || pts[1].Value != 2.25 || pts[0].Measure != "kpiValue" ||
		pts[0].Attributes["kpiId"] != "K1" || pts[0].Attributes["n"] != "3" {
		t.Errorf("points = %+v", pts)
	}
	b, _ := json.Marshal(got)
	for _, want := range []string{`"format":"time_series"`, `"timeRange":{"from":"20251125100000","to":"20251125110000"}`,
		`"metrics":[{"measure":"kpiValue","method":"AVG"}]`, `"metrics":[{"measure":"other"}]`, `"filters":[{"key":"kpiId","values":["K1"]}]`,
		`"provider":"KPI_HISTORY_TOTALS"`, `"resolution":"5Mi"`, `"timestampFormat":"unix"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("body %s lacks %s", b, want)
		}
	}
}

// An answer that is not one list of series per query is not data: an *APIError saying so.
func TestAnalyticsDataNotData(t *testing.T) {
	tn := newTenant(t)
	tn.mux.HandleFunc("POST "+analyticsDataPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"error":"provider unknown"}`)
	})
	_, err := tn.client(nil).AnalyticsData(context.Background(), AnalyticsQuery{Provider: "X", Dimensions: []string{"a"}, Measures: []string{"m"},
		From: time.Unix(0, 0), To: time.Unix(300, 0), Resolution: "5Mi"})
	var ae *APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.NotData, "not one list of series per query") {
		t.Errorf("err = %v", err)
	}
}
