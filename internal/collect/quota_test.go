package collect

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestProjectMonth(t *testing.T) {
	for _, tc := range []struct {
		now   string
		bytes int64
		want  int64
	}{
		{"2026-11-16T00:00:00Z", 1000, 2000},            // half of November's 30 days
		{"2026-12-01T06:00:00Z", 1000, 124 * 1000},      // a quarter of the first of 31 days
		{"2026-12-01T00:00:00Z", 10, 10 * 31 * 24 * 60}, // the first minute counts as a whole minute
		{"2026-02-28T00:00:00Z", 27, 28},                // 27 of February's 28 days
	} {
		if got := ProjectMonth(tc.bytes, ts(tc.now)); got != tc.want {
			t.Errorf("ProjectMonth(%d, %s) = %d, want %d", tc.bytes, tc.now, got, tc.want)
		}
	}
}

// Two runs add their API bytes to the tenant's month in the store (the run's UTC month, not the
// wall clock's), the summary and the EMF run line carry the projection in percent of the
// configured quota, and a projection above half the quota is a warning naming the tenant.
func TestRunsKeepTheMonthsAPIBytesAndProjectThem(t *testing.T) {
	e := newEnv(t, "hm")
	var logs bytes.Buffer
	e.r.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	e.r.Config.APIQuotaBytes = 1 << 40 // far above: no warning
	ctx := context.Background()
	s1 := e.r.Run(ctx, Request{})
	mustOK(t, s1)
	if s1.Quota == nil || s1.APIBytes <= 0 {
		t.Fatalf("run 1: quota %+v, api bytes %d", s1.Quota, s1.APIBytes)
	}
	e.clock.Advance(10 * time.Minute)
	s2 := e.r.Run(ctx, Request{})
	mustOK(t, s2)
	q := s2.Quota
	if q == nil || q.Month != "2026-11" || q.MonthToDateBytes != s1.APIBytes+s2.APIBytes || q.QuotaBytes != 1<<40 {
		t.Fatalf("run 2: quota %+v; want month 2026-11 with %d + %d bytes", q, s1.APIBytes, s2.APIBytes)
	}
	if want := ProjectMonth(q.MonthToDateBytes, e.clock.Now()); q.ProjectedBytes != want {
		t.Errorf("projected %d, want %d", q.ProjectedBytes, want)
	}
	if want := 100 * float64(q.ProjectedBytes) / float64(1<<40); q.ProjectionPercent != want {
		t.Errorf("projection %v %%, want %v", q.ProjectionPercent, want)
	}
	if strings.Contains(logs.String(), "above the quota share") {
		t.Errorf("a warning below the share:\n%s", logs.String())
	}
	var emf bytes.Buffer
	if err := s2.WriteEMF(&emf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(emf.String()), "\n")
	var run map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &run); err != nil {
		t.Fatal(err)
	}
	if run["QuotaProjectionPercent"] != q.ProjectionPercent || !strings.Contains(lines[len(lines)-1], `{"Name":"QuotaProjectionPercent","Unit":"Percent"}`) {
		t.Errorf("EMF run line without the projection %v:\n%s", q.ProjectionPercent, lines[len(lines)-1])
	}

	// A quota so small that the projection passes half of it: a warning naming the tenant.
	e.r.Config.APIQuotaBytes = q.ProjectedBytes
	e.clock.Advance(10 * time.Minute)
	s3 := e.r.Run(ctx, Request{})
	if s3.Quota == nil || s3.Quota.ProjectionPercent <= 50 {
		t.Fatalf("run 3: quota %+v, want above 50 %%", s3.Quota)
	}
	var warned bool
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "above the quota share") && strings.Contains(l, `"level":"WARN"`) && strings.Contains(l, `"tenant":"`+e.r.Tenant+`"`) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning naming tenant %s:\n%s", e.r.Tenant, logs.String())
	}
	u, err := e.store.AddUsage(ctx, e.r.Tenant, "2026-11", 0)
	if err != nil || u.APIBytes != s1.APIBytes+s2.APIBytes+s3.APIBytes {
		t.Errorf("stored %+v, %v; want the three runs' %d bytes", u, err, s1.APIBytes+s2.APIBytes+s3.APIBytes)
	}
}

// A run without its own EMF projection (a store that failed) writes no QuotaProjectionPercent.
func TestEMFWithoutProjection(t *testing.T) {
	var emf bytes.Buffer
	if err := (Summary{Tenant: "t", Started: t0}).WriteEMF(&emf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(emf.String(), "QuotaProjectionPercent") {
		t.Errorf("a projection the run did not make:\n%s", emf.String())
	}
}
