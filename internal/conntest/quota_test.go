package conntest

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/cadence"
	"github.com/calm-collector/calm-collector/internal/sim"
)

// quotaNow is the frozen clock of the quota tests.
func quotaNow() time.Time { return time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC) }

// bytesAfter reads the amount written (by gb) right after prefix in detail; ok is false when
// prefix is not followed by one.
func bytesAfter(detail, prefix string) (float64, bool) {
	return bytesAfterRE(detail, regexp.QuoteMeta(prefix))
}

// bytesAfterRE is bytesAfter of a prefix given as a regular expression.
func bytesAfterRE(detail, prefix string) (float64, bool) {
	m := regexp.MustCompile(prefix + `([0-9.]+) (MB|GB)`).FindStringSubmatch(detail)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	if m[2] == "GB" {
		return v * 1e9, true
	}
	return v * 1e6, true
}

// quotaOf runs the connection test of monitors and returns its quota check.
func quotaOf(t *testing.T, s *sim.Server, opts Options) Check {
	t.Helper()
	opts.Now = quotaNow
	q, ok := Run(context.Background(), s.ConnectorJSON(), opts).Check("quota")
	if !ok {
		t.Fatalf("no quota check for %v", opts.Monitors)
	}
	return q
}

// The logs and traces monitors are in the projection, each with its reads, its re-checks for
// late data once per settle horizon and its service discovery, and the total grows by them.
func TestQuotaProjectsLogsAndTraces(t *testing.T) {
	s := sim.StartTest(t, sim.Config{Services: 240, Now: quotaNow})
	alone := quotaOf(t, s, Options{Monitors: []string{"hm"}})
	with := quotaOf(t, s, Options{Monitors: []string{"hm", "logs", "traces"}})
	if alone.Status != Pass || with.Status != Pass {
		t.Fatalf("quota of hm = %+v\nof hm, logs, traces = %+v\nwant both to pass", alone, with)
	}
	every := "a count per service every " + cadence.Settle.String()
	for _, line := range []string{"logs (provider exm.im) ", "traces (provider rum) "} {
		i := strings.Index(with.Detail, line)
		if i < 0 {
			t.Fatalf("quota = %s\nwant a line %q", with.Detail, line)
		}
		rest := with.Detail[i:]
		if j := strings.Index(rest[1:], "); "); j >= 0 {
			rest = rest[:j+1]
		}
		for _, want := range []string{"240 services", "bytes each, taken for every service", "a read per service and run ", "re-checks for late data ", every, "service discovery "} {
			if !strings.Contains(rest, want) {
				t.Errorf("line %q lacks %q", rest, want)
			}
		}
	}
	hm, _ := bytesAfter(alone.Detail, "hm ")
	total0, _ := bytesAfter(alone.Detail, "projected ")
	total, _ := bytesAfter(with.Detail, "projected ")
	logs, _ := bytesAfter(with.Detail, "logs (provider exm.im) ")
	traces, _ := bytesAfter(with.Detail, "traces (provider rum) ")
	if hm <= 0 || logs <= 0 || traces <= 0 || math.Abs(total0-hm) > 0.01*total0 {
		t.Fatalf("hm %.0f, logs %.0f, traces %.0f, total of hm alone %.0f: want positive parts adding up", hm, logs, traces, total0)
	}
	// The printed figures are rounded to 0.1 MB or 0.01 GB: compare within 1 %.
	if sum := hm + logs + traces; math.Abs(total-sum) > 0.01*total || total <= total0 {
		t.Errorf("total %.0f with logs and traces, %.0f without; the parts add up to %.0f", total, total0, sum)
	}

	// The horizon the projection assumes is the one given: twice the horizon, half the re-checks.
	longer := quotaOf(t, s, Options{Monitors: []string{"logs"}, Settle: 2 * cadence.Settle})
	short := quotaOf(t, s, Options{Monitors: []string{"logs"}})
	r1, _ := bytesAfter(short.Detail, "re-checks for late data ")
	r2, _ := bytesAfter(longer.Detail, "re-checks for late data ")
	if r1 <= 0 || math.Abs(r2-r1/2) > 0.02*r1 || !strings.Contains(longer.Detail, "every "+(2*cadence.Settle).String()) {
		t.Errorf("re-checks %.0f at the default horizon, %.0f at twice it (%s): want half", r1, r2, longer.Detail)
	}
}

// A tenant whose logs reads dominate gets the warning where its metrics alone would not.
func TestQuotaWarnsWhenLogsDominate(t *testing.T) {
	s := sim.StartTest(t, sim.Config{Services: 60, Now: quotaNow})
	alone := quotaOf(t, s, Options{Monitors: []string{"hm"}})
	hm, ok := bytesAfter(alone.Detail, "projected ")
	if alone.Status != Pass || !ok || hm <= 0 {
		t.Fatalf("quota of hm = %+v", alone)
	}
	limit := int64(4 * hm) // hm alone: a quarter of it
	if q := quotaOf(t, s, Options{Monitors: []string{"hm"}, QuotaBytes: limit}); q.Status != Pass {
		t.Fatalf("quota of hm at %d bytes = %+v, want pass", limit, q)
	}
	logs := []string{"hm", "logs", "logs-exm-jam", "logs-bsm", "logs-im", "logs-iep", "logs-jam-def", "logs-jam-run", "logs-jam-run-step"}
	q := quotaOf(t, s, Options{Monitors: logs, QuotaBytes: limit})
	if q.Status != Warn || !strings.Contains(q.Hint, "above 50 %") {
		t.Fatalf("quota with the logs monitors = %+v, want warn", q)
	}
	sum := 0.0
	for _, id := range logs[1:] {
		b, ok := bytesAfterRE(q.Detail, "; "+regexp.QuoteMeta(id)+` \(provider [^)]*\) `)
		if !ok {
			t.Fatalf("quota = %s\nwant a line of %s", q.Detail, id)
		}
		sum += b
	}
	if sum <= hm {
		t.Errorf("the logs monitors project %.0f bytes, hm %.0f: want the logs to dominate", sum, hm)
	}
}

// Enabled monitors the projection cannot measure are named, with the reason.
func TestQuotaNamesWhatItCannotMeasure(t *testing.T) {
	s := sim.StartTest(t, sim.Config{Now: quotaNow})
	q := quotaOf(t, s, Options{Monitors: []string{"hm", "status"}})
	if q.Status != Pass || !strings.Contains(q.Detail, "status not measured (status events:") {
		t.Errorf("quota = %+v, want status named as not measured", q)
	}
	s.SetFaults(sim.Faults{MissingScopes: []string{sim.ScopeTraces}})
	q = quotaOf(t, s, Options{Monitors: []string{"hm", "traces"}})
	if !strings.Contains(q.Detail, "traces not measured (its probe failed)") {
		t.Errorf("quota = %+v, want traces named as not measured", q)
	}
}
