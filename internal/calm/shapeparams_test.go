package calm

import "testing"

// A tenant that does not honour from/to is asked by period (from and to are not sent), and
// one that does not take a comma list gets a serviceId parameter per service.
func TestMetricsPeriodAndRepeatedServiceIDs(t *testing.T) {
	tn := newTenant(t)
	want := baseMetricsQuery("100")
	want.Del("from")
	want.Del("to")
	want.Set("period", "L4H")
	want["serviceId"] = []string{"a", "b", "c"}
	n := metricsServer(t, tn, want, func(int) ([]byte, int) { return readTestdata(t, "metrics_empty.json"), 0 })
	r := collectMetrics(tn.client(nil), MetricsQuery{
		Provider: "hm", From: winFrom, To: winTo, Period: "L4H", Resolution: "5Mi",
		ServiceIDs: []string{"a", "b", "c"}, RepeatServiceIDs: true, PageSize: 100,
	})
	if r.err != nil || n.Load() != 1 || len(r.pages) != 1 {
		t.Errorf("err %v calls %d pages %d; want one page", r.err, n.Load(), len(r.pages))
	}
}
