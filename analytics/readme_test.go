package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// collectSim runs one collection of the simulator at testNow with rc into sinks.
func collectSim(t *testing.T, rc collect.Config, sinks ...collect.Sink) {
	t.Helper()
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return testNow }})
	api, err := collect.Connect(srv.ConnectorJSON(), "", collect.ClientOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := (&collect.Runner{Config: rc, Store: store, Sinks: sinks, Owner: "analytics-test",
		Now: func() time.Time { return testNow }, Logger: quiet}).For(api)
	if sum := r.Run(context.Background(), collect.Request{}); !sum.OK {
		t.Fatalf("collection failed: %+v", sum)
	}
}

// simDay collects the last 24 hours of the simulator's monitors at testNow.
func simDay(t *testing.T, monitors ...string) []record.Record {
	t.Helper()
	rc := collect.DefaultConfig()
	rc.Monitors, rc.Lookback, rc.MaxCatchUp = monitors, 24*time.Hour, 24*time.Hour
	ms := &testkit.MemSink[sink.Batch]{}
	collectSim(t, rc, ms)
	var recs []record.Record
	for _, b := range ms.Batches() {
		recs = slices.AppendSeq(recs, b.Records())
	}
	return recs
}

// The README's "Look at your data" tables are what the queries' logic computes from a day of the
// simulator's records (at the tests' fixed clock): each table's rows are recomputed here, the top
// three as the README shows them.
func TestReadmeExamplesAreComputed(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	recs := simDay(t, "hm", "jam")

	// Athena, "Services with critical health ratings (last 24 h)".
	type crit struct {
		tenant, service, metric string
		n                       int
		first, last             time.Time
	}
	groups := map[[3]string]*crit{}
	for _, r := range recs {
		if r.Monitor() != "hm" || r.Name() != "criticalStatus" || !r.HasValue || r.Value <= 0 || r.Time.Before(testNow.Add(-24*time.Hour)) {
			continue
		}
		k := [3]string{r.Tenant(), r.Attr("serviceName"), r.Attr("metricName")}
		g := groups[k]
		if g == nil {
			g = &crit{tenant: k[0], service: k[1], metric: k[2], first: r.Time, last: r.Time}
			groups[k] = g
		}
		g.n++
		g.first, g.last = minTime(g.first, r.Time), maxTime(g.last, r.Time)
	}
	var crits []*crit
	for _, g := range groups {
		crits = append(crits, g)
	}
	slices.SortFunc(crits, func(a, b *crit) int {
		return cmp.Or(-cmp.Compare(a.n, b.n), cmp.Compare(a.service, b.service), cmp.Compare(a.metric, b.metric))
	})
	var rows []string
	for _, g := range crits[:min(3, len(crits))] {
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %s | %s |", g.tenant, g.service, g.metric, g.n,
			g.first.Format("2006-01-02 15:04:05 UTC"), g.last.Format("2006-01-02 15:04:05 UTC")))
	}
	checkTable(t, readme, "| tenant | service | metric | critical_points | first_seen | last_seen |", rows)

	// Logs Insights, "Failed or slow jobs (last 7 days)": runs, average and maximum runTime.
	type job struct {
		tenant, service, job string
		n                    int
		sum, max             float64
	}
	jobs := map[[3]string]*job{}
	for _, r := range recs {
		if r.Monitor() != "jam" || r.Name() != "runTime" || !r.HasValue {
			continue
		}
		k := [3]string{r.Tenant(), r.Attr("serviceName"), r.Attr("jobName")}
		j := jobs[k]
		if j == nil {
			j = &job{tenant: k[0], service: k[1], job: k[2], max: math.Inf(-1)}
			jobs[k] = j
		}
		j.n++
		j.sum += r.Value
		j.max = math.Max(j.max, r.Value)
	}
	var js []*job
	for _, j := range jobs {
		js = append(js, j)
	}
	slices.SortFunc(js, func(a, b *job) int { return cmp.Or(-cmp.Compare(a.max, b.max), cmp.Compare(a.service, b.service)) })
	rows = nil
	for _, j := range js[:min(3, len(js))] {
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %d | %.1f | %.2f |", j.tenant, j.service, j.job, j.n, j.sum/float64(j.n), j.max))
	}
	checkTable(t, readme, "| tenant | service | job | runs | avg_runtime_s | max_runtime_s |", rows)
}

// checkTable finds the table with this header in the README and compares its rows with want.
func checkTable(t *testing.T, readme, header string, want []string) {
	t.Helper()
	_, rest, ok := strings.Cut(readme, header+"\n")
	if !ok {
		t.Errorf("README has no table %s", header)
		return
	}
	var got []string
	for _, line := range strings.Split(rest, "\n")[1:] { // after the |---| line
		if !strings.HasPrefix(line, "|") {
			break
		}
		got = append(got, line)
	}
	if !slices.Equal(got, want) {
		t.Errorf("README table %s\nshows\n%s\ncomputed from the simulator's day\n%s", header, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
