package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/calm-collector/calm-collector/internal/collect"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
)

var quiet = slog.New(slog.DiscardHandler)

// A fixed clock: the simulator's data and the windows depend on it, never on the wall clock.
var testNow = time.Date(2026, 11, 25, 10, 7, 0, 0, time.UTC)

// sent collects every monitor of the simulator for the last hour through the OTLP sink into the
// real OpenTelemetry Collector receiver, and returns the Prometheus names of the metrics it got
// (as the backend's OTLP endpoint names them: underscore escaping with unit and type suffixes),
// each with the label names its data points carry; and the receiver, which holds the spans too.
func sent(t *testing.T) (map[string]map[string]bool, *otlptest.Receiver) {
	t.Helper()
	rcv := otlptest.Start(t)
	srv := sim.StartTest(t, sim.Config{Now: func() time.Time { return testNow }})
	api, err := collect.Connect(srv.ConnectorJSON(), "", collect.ClientOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	store, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	otlp, err := sink.NewOTLP("otlp+"+rcv.Endpoint, sink.OTLPOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = otlp.Close(context.Background()) })
	cfg := collect.DefaultConfig()
	cfg.Monitors = []string{"all"}
	r := (&collect.Runner{Config: cfg, Store: store, Sinks: []collect.Sink{otlp}, Owner: "grafana-test",
		Now: func() time.Time { return testNow }, Logger: quiet}).For(api)
	if sum := r.Run(context.Background(), collect.Request{}); !sum.OK {
		t.Fatalf("collection failed: %+v", sum)
	}

	names := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	labels := otlptranslator.LabelNamer{}
	out := map[string]map[string]bool{}
	for _, md := range rcv.Metrics.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					var typ otlptranslator.MetricType
					var dps pmetric.NumberDataPointSlice
					switch m.Type() {
					case pmetric.MetricTypeGauge:
						typ, dps = otlptranslator.MetricTypeGauge, m.Gauge().DataPoints()
					case pmetric.MetricTypeSum:
						typ, dps = otlptranslator.MetricTypeNonMonotonicCounter, m.Sum().DataPoints()
						if m.Sum().IsMonotonic() {
							typ = otlptranslator.MetricTypeMonotonicCounter
						}
					default:
						t.Fatalf("metric %s arrived as a %s; the test knows gauges and sums", m.Name(), m.Type())
					}
					name, err := names.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: typ})
					if err != nil {
						t.Fatalf("translate %s: %v", m.Name(), err)
					}
					if out[name] == nil {
						out[name] = map[string]bool{}
					}
					for _, dp := range dps.All() {
						for k := range dp.Attributes().All() {
							l, err := labels.Build(k)
							if err != nil {
								t.Fatalf("translate label %s: %v", k, err)
							}
							out[name][l] = true
						}
					}
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the receiver got no metrics")
	}
	return out, rcv
}

type dashboard struct {
	Panels []struct {
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
		} `json:"datasource"`
		Targets []struct {
			Expr  string `json:"expr"`
			Query string `json:"query"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

// selectorRe finds vector selectors written as name{matchers}: the dashboard writes every
// selector with braces, so a bare name would be caught by bareRe below.
var (
	selectorRe = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}`)
	matcherRe  = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)`)
	labelFnRe  = regexp.MustCompile(`label_values\(([A-Za-z_:][A-Za-z0-9_:]*),\s*([A-Za-z_][A-Za-z0-9_]*)\)`)
)

// Every Prometheus panel of cloud-alm.json queries metric names the collector sends, with label
// names those metrics carry; every panel has a query.
func TestDashboardQueriesOnlyNamesTheCollectorSends(t *testing.T) {
	raw, err := os.ReadFile("cloud-alm.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("cloud-alm.json: %v", err)
	}
	got, rcv := sent(t)
	checkTraceQL(t, d, rcv)
	t.Logf("metric names sent: %v", slices.Sorted(maps.Keys(got)))

	checkSelector := func(where, metric string, labelNames []string) {
		ls, ok := got[metric]
		if !ok {
			t.Errorf("%s queries %s, a name the collector never sends (it sends %v)", where, metric, slices.Sorted(maps.Keys(got)))
			return
		}
		for _, l := range labelNames {
			if !ls[l] {
				t.Errorf("%s filters %s on label %s, which its points never carry (they carry %v)", where, metric, l, slices.Sorted(maps.Keys(ls)))
			}
		}
	}
	queried := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource.Type != "prometheus" {
			continue
		}
		for _, tg := range p.Targets {
			sels := selectorRe.FindAllStringSubmatch(tg.Expr, -1)
			if len(sels) == 0 {
				t.Errorf("panel %q: %q has no name{…} selector", p.Title, tg.Expr)
			}
			for _, s := range sels {
				var ls []string
				for _, m := range matcherRe.FindAllStringSubmatch(s[2], -1) {
					ls = append(ls, m[1])
				}
				checkSelector("panel "+strconvQuote(p.Title), s[1], ls)
				queried++
			}
		}
	}
	for _, v := range d.Templating.List {
		if m := labelFnRe.FindStringSubmatch(v.Definition); m != nil {
			checkSelector("variable "+v.Name, m[1], []string{m[2]})
		}
	}
	if queried == 0 {
		t.Fatal("no Prometheus selector found in the dashboard")
	}
}

// traceQLAttrRe finds TraceQL attribute references (resource.x or span.x) with an optional
// equality matcher and its quoted value.
var traceQLAttrRe = regexp.MustCompile(`\b(resource|span)\.([A-Za-z_][A-Za-z0-9_.]*)(?:\s*(=~|!=|=)\s*"([^"]*)")?`)

// checkTraceQL holds every Tempo panel's TraceQL to the spans the collector sent: each attribute
// it names is one the spans (or their resource) carry, and each equality it asks for matches
// some span's value.
func checkTraceQL(t *testing.T, d dashboard, rcv *otlptest.Receiver) {
	t.Helper()
	have := map[string]map[string]bool{} // "resource.x" or "span.x" → values seen
	add := func(scope string, attrs map[string]any) {
		for k, v := range attrs {
			key := scope + "." + k
			if have[key] == nil {
				have[key] = map[string]bool{}
			}
			have[key][fmt.Sprint(v)] = true
		}
	}
	for _, td := range rcv.Traces.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			add("resource", rs.Resource().Attributes().AsRaw())
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					add("span", sp.Attributes().AsRaw())
				}
			}
		}
	}
	if len(have) == 0 {
		t.Fatal("the receiver got no spans")
	}
	queried := 0
	for _, p := range d.Panels {
		if p.Datasource.Type != "tempo" {
			continue
		}
		for _, tg := range p.Targets {
			for _, m := range traceQLAttrRe.FindAllStringSubmatch(tg.Query, -1) {
				key := m[1] + "." + m[2]
				queried++
				switch {
				case have[key] == nil:
					t.Errorf("panel %q: TraceQL names %s, which no span the collector sends carries (they carry %v)", p.Title, key, slices.Sorted(maps.Keys(have)))
				case m[3] == "=" && !have[key][m[4]]:
					t.Errorf("panel %q: TraceQL asks %s = %q; the spans carry %v", p.Title, key, m[4], slices.Sorted(maps.Keys(have[key])))
				}
			}
		}
	}
	if queried == 0 {
		t.Error("no TraceQL attribute found in the dashboard's Tempo panels")
	}
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
