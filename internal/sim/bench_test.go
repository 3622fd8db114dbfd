package sim

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkMetricsHour measures one unpaged hour of hm at 5Mi for six services, served
// in-process (generation, OTLP building and JSON encoding).
func BenchmarkMetricsHour(b *testing.B) {
	s := New(Config{Now: func() time.Time { return t0 }})
	tok := s.sign(claims{JTI: "bench", Scope: s.grantedScopes(Faults{}), EXP: t0.Add(time.Hour).Unix()})
	q := metricsQuery("hm", t0.Add(-time.Hour).Truncate(5*time.Minute), t0.Truncate(5*time.Minute))
	req := httptest.NewRequest(http.MethodGet, metricsPath+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	var n int
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("HTTP %d %s", w.Code, w.Body)
		}
		n = w.Body.Len()
	}
	b.ReportMetric(float64(n), "bytes/op-body")
}
