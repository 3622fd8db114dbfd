package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
)

const kpiMonitors = `[{"id":"kpi-orders","provider":"KPI_HISTORY_TOTALS","scope":"calm-api.bm.read",
 "dimensions":["kpiId","kpiName","serviceId","serviceName"],"measures":[{"name":"kpiValue","method":"AVG"}]}]`

// A BPM KPI monitor given only as data (--extra-monitors FILE) is backfilled exactly.
func TestCollectExtraMonitorsFile(t *testing.T) {
	srv, secret := startSim(t)
	defs := filepath.Join(t.TempDir(), "monitors.json")
	if err := os.WriteFile(defs, []byte(kpiMonitors), 0o600); err != nil {
		t.Fatal(err)
	}
	from := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	to := from.Add(2 * time.Hour)
	var stdout, stderr bytes.Buffer
	code := runCollect(context.Background(), []string{"--secret-file", secret, "--state", t.TempDir(), "--out", "-",
		"--extra-monitors", defs, "--monitors", "kpi-orders", "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	q := sim.AnalyticsQuery{Name: "kpiValue", Provider: "KPI_HISTORY_TOTALS"}
	q.Columns.Dimensions = []string{"kpiId", "kpiName", "serviceId", "serviceName"}
	q.Columns.Metrics = append(q.Columns.Metrics, struct {
		Measure string `json:"measure"`
		Method  string `json:"method"`
	}{"kpiValue", "AVG"})
	want := map[string]bool{}
	for _, p := range srv.ExpectedAnalytics(q, from, to, 5*time.Minute) {
		want[record.PointID("sim", "kpi-orders", p.Measure, p.Attributes, p.Time)] = true
	}
	exact(t, "backfill kpi-orders", readIDs(t, stdout.Bytes(), "kpi-orders"), want)
}

func TestCollectExtraMonitorsFileErrorsNameTheField(t *testing.T) {
	defs := filepath.Join(t.TempDir(), "monitors.json")
	bad := strings.Replace(kpiMonitors, `"AVG"`, `"MEDIAN"`, 1)
	if err := os.WriteFile(defs, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := runCollect(context.Background(), []string{"--secret-file", "x", "--extra-monitors", defs}, &stdout, &stderr)
	if want := `extraMonitors[0].measures[0].method: "MEDIAN" is not one of AVG, MIN, MAX, SUM, PERCENT`; code != 2 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
}
