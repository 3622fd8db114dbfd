package conntest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/sim"
)

// A tenant that refuses a rum query naming no service (428, SAP's Grafana plug-in issue #109)
// and lists more RUM services than one query may name passes, probed in batches as collection
// reads it; every data point of the probe window is counted.
func TestMonitorRUMProbedInBatchesWithinTheLimit(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 31, 0, 0, time.UTC)
	s := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }, Behaviours: sim.Behaviours{RUMServiceLimit: true}})
	if n := len(s.ServiceIDs()); n <= 5 {
		t.Fatalf("the simulator has %d services; the test needs more than 5", n)
	}
	r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"rum"}, Now: func() time.Time { return now }})
	c, _ := r.Check("monitor:rum")
	if c.Status != Pass {
		t.Fatalf("monitor:rum = %s: %s (%s)", c.Status, c.Detail, c.Hint)
	}
	to := now.Add(-probeLag).Truncate(probeResolution)
	want := len(s.Expected("rum", to.Add(-probeResolution), to, probeResolution))
	n := len(s.ServiceIDs())
	wantIn := []string{"from " + strconv.Itoa(n) + " services of DP_RUM_REQUEST_TYPES, asked in " + strconv.Itoa((n+4)/5) + " queries of at most 5 services"}
	for _, w := range wantIn {
		if !strings.Contains(c.Detail, w) {
			t.Errorf("detail %q lacks %q", c.Detail, w)
		}
	}
	if !strings.HasPrefix(c.Detail, strconv.Itoa(want)+" data points") {
		t.Errorf("detail %q: want %d data points", c.Detail, want)
	}
}

// api-shape says how the tenant reads time windows, stamps points and takes service lists, as
// the collector learns them; it warns where from/to are not honoured.
func TestAPIShapeTellsTheTenantsShape(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 31, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		b      sim.Behaviours
		status Status
		want   []string
	}{
		{"default", sim.Behaviours{}, Pass, []string{"from/to honoured for the last hour and for 06:00–07:00", "period=L5H reaches 06:00–07:00",
			"period=L1H honoured", "points stamped with their bucket's start", "service lists: serviceId=a,b,c selects several services"}},
		{"ignore-from-to", sim.Behaviours{IgnoreFromTo: true}, Warn, []string{"from/to are not honoured (asked for 06:00–07:00",
			"period=L5H reaches 06:00–07:00", "period=L1H honoured"}},
		{"end-stamps", sim.Behaviours{EndStamps: true}, Pass, []string{"from/to honoured for the last hour and for 06:00–07:00",
			"points stamped with their bucket's end"}},
		{"no-service-list", sim.Behaviours{NoServiceList: true}, Pass, []string{"service lists: only repeated serviceId parameters select several services"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sim.StartTest(t, sim.Config{Now: func() time.Time { return now }, Behaviours: c.b})
			r := Run(context.Background(), s.ConnectorJSON(), Options{Monitors: []string{"hm", "rum"}, Now: func() time.Time { return now }})
			chk, _ := r.Check("api-shape")
			if chk.Status != c.status {
				t.Errorf("api-shape = %s, want %s: %s", chk.Status, c.status, chk.Detail)
			}
			for _, w := range c.want {
				if !strings.Contains(chk.Detail, w) {
					t.Errorf("detail %q lacks %q", chk.Detail, w)
				}
			}
		})
	}
}
