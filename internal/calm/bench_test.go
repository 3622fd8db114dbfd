package calm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkMetricsPage measures fetching and decoding one full page (5000 gauge points) over
// loopback HTTP.
func BenchmarkMetricsPage(b *testing.B) {
	var dps []string
	for i := range 5000 {
		dps = append(dps, fmt.Sprintf(`{"timeUnixNano":"%d","asDouble":%d.5,"attributes":[{"key":"serviceId","value":{"stringValue":"svc-%d"}},{"key":"metricName","value":{"stringValue":"cpu"}}]}`, 1795687200000000000+int64(i)*1e9, i, i%50))
	}
	body := []byte(`{"resourceMetrics":[{"resource":{"attributes":[{"key":"serviceName","value":{"stringValue":"S4H.100"}}]},"scopeMetrics":[{"metrics":[{"name":"value","unit":"%","gauge":{"dataPoints":[` + strings.Join(dps, ",") + `]}}]}]}]}`)
	tn := newTenant(b)
	tn.mux.HandleFunc("GET /api/calm-metrics/v1/metrics", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 5000, body) })
	c := tn.client(nil)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		for p, err := range c.Metrics(context.Background(), MetricsQuery{Provider: "hm", From: winFrom, To: winTo}) {
			if err != nil || p.Points != 5000 {
				b.Fatalf("points %d, err %v", p.Points, err)
			}
		}
	}
}
