package calm

import (
	"testing"
	"time"
)

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

func TestPeriodCoveringReachesBackToFrom(t *testing.T) {
	now := winTo.Add(3*time.Hour + 7*time.Minute)
	for _, c := range []struct {
		from time.Time
		want string
	}{
		{now.Add(-7 * time.Minute), "L1H"},              // a scheduled run's window
		{now.Add(-56 * time.Minute), "L2H"},             // within the margin of an hour: one more
		{now.Add(-4*time.Hour + 30*time.Minute), "L4H"}, // a backfill 3.5 h back
		{now.Add(-4 * time.Hour), "L5H"},                // exactly 4 h: the margin asks one more
	} {
		if got := PeriodCovering(c.from, now); got != c.want {
			t.Errorf("PeriodCovering(now-%s) = %s, want %s", now.Sub(c.from), got, c.want)
		}
	}
}
