package collect

// Acceptance tests of "Send Cloud ALM data to any OpenTelemetry backend": scheduled runs against
// the simulator with the OTLP sink pointed at the OpenTelemetry Collector's own OTLP receiver
// (internal/otlptest), compared point by point and event by event with what the simulator
// served; and runs whose backend fails (429 with Retry-After, 503, partial success, no backend
// at all) that must leave the checkpoint behind the failed window and lose nothing.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/monitor"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
)

// otlpEventSeverity is the severity the OTLP sink gives a status event of each type.
var otlpEventSeverity = map[string]struct {
	number plog.SeverityNumber
	text   string
}{
	"Disruption": {plog.SeverityNumberError, "ERROR"}, "Degradation": {plog.SeverityNumberWarn, "WARN"},
	"Maintenance": {plog.SeverityNumberInfo, "INFO"}, "Planned Availability": {plog.SeverityNumberInfo, "INFO"},
	"Communication": {plog.SeverityNumberInfo, "INFO"},
}

const (
	otlpResolution = 5 * time.Minute
	// otlpRetries is the sinks' MaxRetries: a failing request is tried otlpRetries+1 times.
	otlpRetries = 1
)

// newOTLPSink is an OTLP sink for base ("http://127.0.0.1:port") that gives up fast.
func newOTLPSink(t *testing.T, base string) *sink.OTLP {
	t.Helper()
	s, err := sink.NewOTLP("otlp+"+base, sink.OTLPOptions{MaxRetries: otlpRetries, Backoff: time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// gotPoint is one data point as the receiver got it.
type gotPoint struct {
	monitor, name, unit string
	sum                 bool // a sum (else a gauge)
	delta, monotonic    bool
	start, end          time.Time // StartTimestamp and Timestamp
	value               float64
	hasValue            bool
	resource            map[string]string
	attrs               map[string]string // resource attributes overlaid with the point's
}

// calmTime is the Cloud ALM time of the point: a delta sum starts at it, a gauge is stamped with it.
func (p gotPoint) calmTime() time.Time {
	if p.sum {
		return p.start
	}
	return p.end
}

func (p gotPoint) String() string {
	return fmt.Sprintf("%s %s [%s] at %s = %v (sum %v) %v", p.monitor, p.name, p.unit,
		p.calmTime().Format(time.RFC3339), p.value, p.sum, p.attrs)
}

// otlpKey identifies a point by monitor, name, unit, attributes and Cloud ALM time.
func otlpKey(tenant, monitor, name, unit string, attrs map[string]string, t time.Time) string {
	return record.PointID(tenant, monitor, name+"\x00"+unit, attrs, t)
}

func strMap(m pcommon.Map) map[string]string {
	out := make(map[string]string, m.Len())
	for k, v := range m.All() {
		out[k] = v.AsString()
	}
	return out
}

func overlay(base, top map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}

// receivedPoints walks every data point of every metric of every resource the receiver got.
// Metric types other than gauge and sum are reported as errors: the sink sends no others.
func receivedPoints(t *testing.T, rcv *otlptest.Receiver) []gotPoint {
	t.Helper()
	var out []gotPoint
	for _, md := range rcv.Metrics.AllMetrics() {
		for _, rm := range md.ResourceMetrics().All() {
			res := strMap(rm.Resource().Attributes())
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					p := gotPoint{monitor: res["calm.monitor"], name: m.Name(), unit: m.Unit(), resource: res}
					var dps pmetric.NumberDataPointSlice
					switch m.Type() {
					case pmetric.MetricTypeGauge:
						dps = m.Gauge().DataPoints()
					case pmetric.MetricTypeSum:
						p.sum, dps = true, m.Sum().DataPoints()
						p.delta = m.Sum().AggregationTemporality() == pmetric.AggregationTemporalityDelta
						p.monotonic = m.Sum().IsMonotonic()
					default:
						t.Errorf("metric %s of %s arrived as a %s", m.Name(), p.monitor, m.Type())
						continue
					}
					for _, dp := range dps.All() {
						q := p
						q.start, q.end = dp.StartTimestamp().AsTime(), dp.Timestamp().AsTime()
						if dp.StartTimestamp() == 0 {
							q.start = time.Time{}
						}
						q.attrs = overlay(res, strMap(dp.Attributes()))
						switch dp.ValueType() {
						case pmetric.NumberDataPointValueTypeDouble:
							q.value, q.hasValue = dp.DoubleValue(), true
						case pmetric.NumberDataPointValueTypeInt:
							q.value, q.hasValue = float64(dp.IntValue()), true
						}
						if dp.Flags().NoRecordedValue() {
							q.hasValue = false
						}
						out = append(out, q)
					}
				}
			}
		}
	}
	return out
}

// wantPoint is one point the simulator served, as the receiver must get it.
type wantPoint struct {
	monitor string
	p       sim.Point
	attrs   map[string]string // Cloud ALM attributes plus the sink's resource attributes
}

// sinkResource is what the OTLP sink adds to the attributes of every point of a monitor.
func sinkResource(tenant, monitor string) map[string]string {
	return map[string]string{"service.name": "sap-cloud-alm", "calm.tenant": tenant, "calm.monitor": monitor}
}

// expectedPoints are the simulator's points of every metrics monitor in rngs, by otlpKey.
func expectedPoints(t *testing.T, e *env, rngs map[string]Range) map[string]wantPoint {
	t.Helper()
	want := map[string]wantPoint{}
	for monitor, rng := range rngs {
		if !rng.From.Before(rng.To) {
			continue
		}
		for _, p := range servedPoints(t, e, monitor, rng) {
			w := wantPoint{monitor: monitor, p: p, attrs: overlay(p.Merged(), sinkResource(e.r.Tenant, monitor))}
			k := otlpKey(e.r.Tenant, monitor, p.Metric, p.Unit, w.attrs, p.Time)
			if _, dup := want[k]; dup {
				t.Fatalf("the simulator serves %s %s at %s twice", monitor, p.Metric, p.Time)
			}
			want[k] = w
		}
	}
	return want
}

// servedPoints are the points the simulator serves for the monitor's own query (its dimensions
// and measures, every service) over rng.
//
// Not sim.Expected: that asks for every dimension, and the simulator rounds the gauges of a
// query with dimensions by truncating value·100 (aggregate), which turns 71.96 into 71.95; the
// collector must deliver what was served.
func servedPoints(t *testing.T, e *env, monitor string, rng Range) []sim.Point {
	t.Helper()
	m, ok := Lookup(monitor).(interface{ query(Query) calm.MetricsQuery })
	if !ok {
		t.Fatalf("monitor %s is not a metrics monitor", monitor)
	}
	mq := m.query(Query{Tenant: e.r.Tenant, From: rng.From, To: rng.To})
	q := sim.Query{Provider: mq.Provider, From: rng.From, To: rng.To, Resolution: otlpResolution, Dimensions: mq.Dimensions}
	for _, v := range mq.Metrics {
		q.Measures = append(q.Measures, strings.TrimPrefix(v, "measure:"))
	}
	pts, err := e.sim.ExpectedQuery(q)
	if err != nil {
		t.Fatalf("%s: %v", monitor, err)
	}
	return pts
}

// errLimit bounds the errors of one kind a check reports: a systematic fault would otherwise
// print thousands of lines.
type errLimit struct {
	t    *testing.T
	left map[string]int
	more map[string]int
}

func newErrLimit(t *testing.T) *errLimit {
	return &errLimit{t: t, left: map[string]int{}, more: map[string]int{}}
}

func (l *errLimit) Errorf(kind, format string, args ...any) {
	l.t.Helper()
	if _, ok := l.left[kind]; !ok {
		l.left[kind] = 10
	}
	if l.left[kind] == 0 {
		l.more[kind]++
		return
	}
	l.left[kind]--
	l.t.Errorf(format, args...)
}

func (l *errLimit) Done() {
	l.t.Helper()
	for kind, n := range l.more {
		l.t.Errorf("... and %d more %s", n, kind)
	}
}

// checkPoints compares what the receiver got with what the simulator served: every expected
// point arrives, with the right type, timestamps and value, and nothing else does. A point may
// arrive twice only when redelivered(monitor, window start) says its window was re-sent after
// the backend had taken it; such a window must then arrive exactly twice.
func checkPoints(t *testing.T, tenant string, got []gotPoint, want map[string]wantPoint, redelivered func(monitor string, window time.Time) bool) {
	t.Helper()
	errs := newErrLimit(t)
	defer errs.Done()
	counts := map[string]int{}
	for _, g := range got {
		k := otlpKey(tenant, g.monitor, g.name, g.unit, g.attrs, g.calmTime())
		counts[k]++
		w, ok := want[k]
		if !ok {
			errs.Errorf("unexpected", "received a point the simulator did not serve: %s", g)
			continue
		}
		if want := sinkResource(tenant, w.monitor); !equalMaps(g.resource, want) {
			errs.Errorf("resource", "%s: resource attributes %v, want %v", g, g.resource, want)
		}
		isSum := w.p.Sum || monitor.IsCountName(w.p.Metric)
		switch {
		case isSum && (!g.sum || !g.delta || !g.monotonic):
			errs.Errorf("type", "%s: arrived as sum=%v delta=%v monotonic=%v, want a monotonic delta sum", g, g.sum, g.delta, g.monotonic)
		case isSum && (!g.start.Equal(w.p.Time) || !g.end.Equal(w.p.Time.Add(otlpResolution))):
			errs.Errorf("time", "%s: delta interval [%s, %s], want [%s, %s]", g, g.start, g.end, w.p.Time, w.p.Time.Add(otlpResolution))
		case !isSum && g.sum:
			errs.Errorf("type", "%s: arrived as a sum, want a gauge", g)
		case !isSum && (!g.end.Equal(w.p.Time) || !g.start.IsZero()):
			errs.Errorf("time", "%s: gauge stamped %s (start %s), want %s without a start", g, g.end, g.start, w.p.Time)
		}
		if !g.hasValue || g.value != w.p.Value {
			errs.Errorf("value", "%s: value %v (has value %v), the simulator served %v", g, g.value, g.hasValue, w.p.Value)
		}
	}
	for k, w := range want {
		n := counts[k]
		again := redelivered != nil && redelivered(w.monitor, w.p.Time.Truncate(otlpResolution))
		switch {
		case n == 0:
			errs.Errorf("missing", "missing: %s %s [%s] at %s %v", w.monitor, w.p.Metric, w.p.Unit, w.p.Time.Format(time.RFC3339), w.attrs)
		case again && n != 2:
			errs.Errorf("redelivered", "%s %s at %s (a re-sent window) arrived %d times, want 2", w.monitor, w.p.Metric, w.p.Time.Format(time.RFC3339), n)
		case !again && n != 1:
			errs.Errorf("duplicate", "%s %s at %s arrived %d times, want once (its window was not re-sent)", w.monitor, w.p.Metric, w.p.Time.Format(time.RFC3339), n)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// gotLog is one log record as the receiver got it.
type gotLog struct {
	resource, attrs map[string]string
	time            time.Time
	eventName, body string
	severity        plog.SeverityNumber
	severityText    string
}

func receivedLogs(rcv *otlptest.Receiver) []gotLog {
	var out []gotLog
	for _, ld := range rcv.Logs.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			res := strMap(rl.Resource().Attributes())
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out = append(out, gotLog{resource: res, attrs: strMap(lr.Attributes()), time: lr.Timestamp().AsTime(),
						eventName: lr.EventName(), body: lr.Body().AsString(), severity: lr.SeverityNumber(), severityText: lr.SeverityText()})
				}
			}
		}
	}
	return out
}

// eventFields are the fields of a status event as the events API sends them, as strings.
func eventFields(t *testing.T, ev sim.Event) map[string]string {
	t.Helper()
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkEvents checks that every expected status event arrived exactly once as a log record with
// its fields (and its stable record id) as attributes, and that no other log record arrived.
func checkEvents(t *testing.T, tenant string, got []gotLog, want []sim.Event) {
	t.Helper()
	errs := newErrLimit(t)
	defer errs.Done()
	byID := map[string]sim.Event{}
	for _, ev := range want {
		byID[ev.EventID] = ev
	}
	seen := map[string]int{}
	for _, g := range got {
		id := g.attrs["eventId"]
		ev, ok := byID[id]
		if !ok {
			errs.Errorf("unexpected", "received a log record that is no event of the simulator: %v", g.attrs)
			continue
		}
		seen[id]++
		start, err := time.Parse(time.RFC3339, ev.EventStartTime)
		if err != nil {
			t.Fatalf("event %s: start time %q: %v", id, ev.EventStartTime, err)
		}
		fields := eventFields(t, ev)
		wantAttrs := overlay(fields, map[string]string{
			"calm.record.id": record.NewSeries(tenant, "status", record.KindEvent, StatusEventName, "", false, fields).ContentID(start, ""),
		})
		if !equalMaps(g.attrs, wantAttrs) {
			errs.Errorf("attributes", "event %s: attributes %v, want %v", id, g.attrs, wantAttrs)
		}
		if wr := sinkResource(tenant, "status"); !equalMaps(g.resource, wr) {
			errs.Errorf("resource", "event %s: resource %v, want %v", id, g.resource, wr)
		}
		wantBody := ev.EventName + ": " + ev.EventDescription
		sev, known := otlpEventSeverity[ev.EventType]
		if !known {
			t.Fatalf("event %s: the simulator serves event type %q the test does not know", id, ev.EventType)
		}
		if !g.time.Equal(start) || g.eventName != StatusEventName || g.body != wantBody || g.severity != sev.number || g.severityText != sev.text {
			errs.Errorf("fields", "event %s: time %s, event name %q, body %q, severity %s/%q; want %s, %q, %q, %s/%q",
				id, g.time, g.eventName, g.body, g.severity, g.severityText, start, StatusEventName, wantBody, sev.number, sev.text)
		}
	}
	for _, ev := range want {
		if n := seen[ev.EventID]; n != 1 {
			errs.Errorf("count", "event %s (%s, %s) arrived %d times, want once", ev.EventID, ev.EventType, ev.EventStatus, n)
		}
	}
}

// summaryOf returns the summary of a monitor.
func summaryOf(t *testing.T, s Summary, monitor string) MonitorSummary {
	t.Helper()
	for _, m := range s.Monitors {
		if m.Monitor == monitor {
			return m
		}
	}
	t.Fatalf("no summary for monitor %s in %+v", monitor, s)
	return MonitorSummary{}
}

// TestOTLPRunDeliversEverythingToARealReceiver: a scheduled run with the OTLP sink delivers every
// point and status event the simulator served to the OpenTelemetry Collector's OTLP receiver,
// with names, units, attributes, timestamps and values intact, counts as delta sums and the
// rest as gauges, and nothing else.
func TestOTLPRunDeliversEverythingToARealReceiver(t *testing.T) {
	rcv := otlptest.Start(t)
	monitors := []string{"hm", "jam", "exm", "rum", "cpi", "sum", "status"}
	e := newEnv(t, monitors...)
	e.r.Sinks = []Sink{newOTLPSink(t, rcv.Endpoint)}
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)

	from, to := ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z")
	rngs := map[string]Range{}
	for _, m := range monitors[:len(monitors)-1] {
		ms := summaryOf(t, s, m)
		if !ms.From.Equal(from) || !ms.To.Equal(to) || ms.Windows != 12 {
			t.Errorf("%s: delivered %d windows %s–%s, want 12 from %s to %s", m, ms.Windows, ms.From, ms.To, from, to)
		}
		rngs[m] = Range{From: ms.From, To: ms.To}
	}
	want := expectedPoints(t, e, rngs)
	got := receivedPoints(t, rcv)
	checkPoints(t, e.r.Tenant, got, want, nil)
	if len(got) != len(want) {
		t.Errorf("the receiver got %d data points, the simulator served %d", len(got), len(want))
	}

	// Every monitor contributed, and both kinds of metric were exercised.
	perMonitor, sums, gauges := map[string]int{}, 0, 0
	for _, w := range want {
		perMonitor[w.monitor]++
		if monitor.IsCountName(w.p.Metric) {
			sums++
		} else {
			gauges++
		}
	}
	for m := range rngs {
		if perMonitor[m] == 0 || perMonitor[m] != summaryOf(t, s, m).Points {
			t.Errorf("%s: the simulator served %d points, the summary says %d delivered", m, perMonitor[m], summaryOf(t, s, m).Points)
		}
	}
	if sums == 0 || gauges == 0 {
		t.Errorf("%d delta sums and %d gauges: the test must see both", sums, gauges)
	}
	t.Logf("%d points (%d delta sums, %d gauges)", len(want), sums, gauges)

	st := summaryOf(t, s, "status")
	if !st.From.Equal(t0.Add(-24*time.Hour)) || !st.To.Equal(t0) {
		t.Errorf("status lookback %s–%s, want the 24h before %s", st.From, st.To, t0)
	}
	events := e.sim.ExpectedEvents(st.From, st.To)
	if len(events) == 0 {
		t.Fatal("the simulator has no status events in the lookback: the test would prove nothing")
	}
	checkEvents(t, e.r.Tenant, receivedLogs(rcv), events)
	if n := rcv.Logs.LogRecordCount(); n != len(events) || st.Points != n {
		t.Errorf("the receiver got %d log records, the simulator served %d events, the summary says %d", n, len(events), st.Points)
	}
}

// exportInfo is what the fault backend reads of an OTLP request.
type exportInfo struct {
	signal  string    // "metrics" or "logs"
	monitor string    // the resource attribute calm.monitor
	first   time.Time // the earliest Cloud ALM time of its data points (metrics only)
}

func readExport(path, encoding string, body []byte) (exportInfo, error) {
	data := body
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return exportInfo{}, fmt.Errorf("gunzip: %w", err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return exportInfo{}, fmt.Errorf("gunzip: %w", err)
		}
	}
	switch path {
	case "/v1/metrics":
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(data); err != nil {
			return exportInfo{}, fmt.Errorf("decode metrics: %w", err)
		}
		info := exportInfo{signal: "metrics"}
		for _, rm := range req.Metrics().ResourceMetrics().All() {
			if v, ok := rm.Resource().Attributes().Get("calm.monitor"); ok {
				info.monitor = v.Str()
			}
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					var dps pmetric.NumberDataPointSlice
					sum := m.Type() == pmetric.MetricTypeSum
					switch {
					case sum:
						dps = m.Sum().DataPoints()
					case m.Type() == pmetric.MetricTypeGauge:
						dps = m.Gauge().DataPoints()
					default:
						return exportInfo{}, fmt.Errorf("metric %s is a %s", m.Name(), m.Type())
					}
					for _, dp := range dps.All() {
						at := dp.Timestamp().AsTime()
						if sum {
							at = dp.StartTimestamp().AsTime()
						}
						if info.first.IsZero() || at.Before(info.first) {
							info.first = at
						}
					}
				}
			}
		}
		return info, nil
	case "/v1/logs":
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(data); err != nil {
			return exportInfo{}, fmt.Errorf("decode logs: %w", err)
		}
		info := exportInfo{signal: "logs"}
		for _, rl := range req.Logs().ResourceLogs().All() {
			if v, ok := rl.Resource().Attributes().Get("calm.monitor"); ok {
				info.monitor = v.Str()
			}
		}
		return info, nil
	}
	return exportInfo{}, fmt.Errorf("unexpected path %s", path)
}

// Fault modes of faultBackend.
const (
	faultNone     = ""
	faultThrottle = "429"     // 429 with Retry-After: 1 for the metrics of windows from cut on and for every logs request
	faultDown     = "503"     // 503 for the same requests
	faultPartial  = "partial" // once: the first hm metrics request from cut on reaches the receiver, the answer is a partial success
)

// faultBackend stands in front of the real receiver and injects a fault until it is switched off.
type faultBackend struct {
	t       *testing.T
	url     string
	forward http.Handler

	mu   sync.Mutex
	mode string
	cut  time.Time
	// hits counts the requests that met the fault, by "monitor/signal".
	hits map[string]int
	// taken holds the windows ("monitor@start") the receiver took although the sink was told
	// they failed: the next run sends them again.
	taken map[string]bool
}

func newFaultBackend(t *testing.T, receiver string) *faultBackend {
	t.Helper()
	u, err := url.Parse(receiver)
	if err != nil {
		t.Fatal(err)
	}
	b := &faultBackend{t: t, forward: httputil.NewSingleHostReverseProxy(u), hits: map[string]int{}, taken: map[string]bool{}}
	srv := httptest.NewServer(b) // 127.0.0.1
	t.Cleanup(srv.Close)
	b.url = srv.URL
	return b
}

func (b *faultBackend) set(mode string, cut time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.mode, b.cut = mode, cut
}

func (b *faultBackend) hitCounts() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int, len(b.hits))
	for k, v := range b.hits {
		out[k] = v
	}
	return out
}

func (b *faultBackend) wasTaken(monitor string, window time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taken[monitor+"@"+window.UTC().Format(time.RFC3339)]
}

func (b *faultBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	info, err := readExport(r.URL.Path, r.Header.Get("Content-Encoding"), body)
	if err != nil {
		b.t.Errorf("fault backend: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	b.mu.Lock()
	mode := b.mode
	var hit bool
	switch mode {
	case faultThrottle, faultDown:
		hit = info.signal == "logs" || !info.first.Before(b.cut)
	case faultPartial:
		hit = info.signal == "metrics" && info.monitor == "hm" && !info.first.Before(b.cut)
		if hit {
			b.mode = faultNone // once
			b.taken[info.monitor+"@"+info.first.Truncate(otlpResolution).UTC().Format(time.RFC3339)] = true
		}
	}
	if hit {
		b.hits[info.monitor+"/"+info.signal]++
	}
	b.mu.Unlock()

	switch {
	case !hit:
		b.forward.ServeHTTP(w, r)
	case mode == faultThrottle:
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests, slow down", http.StatusTooManyRequests)
	case mode == faultDown:
		http.Error(w, "backend unavailable", http.StatusServiceUnavailable)
	case mode == faultPartial:
		rec := httptest.NewRecorder()
		b.forward.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.t.Errorf("fault backend: the receiver answered %d: %s", rec.Code, rec.Body)
		}
		resp := pmetricotlp.NewExportResponse()
		resp.PartialSuccess().SetRejectedDataPoints(1)
		resp.PartialSuccess().SetErrorMessage("1 data point rejected: out of order")
		data, err := resp.MarshalProto()
		if err != nil {
			b.t.Errorf("fault backend: %v", err)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(data)
	}
}

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// firstWindowWithData is the start of the first window in [from, to) in which the simulator has
// points of the monitor, or to when there is none: a failing backend stops the monitor there
// (an empty window sends nothing, so it cannot fail).
func firstWindowWithData(t *testing.T, e *env, monitor string, from, to time.Time) time.Time {
	t.Helper()
	for w := from; w.Before(to); w = w.Add(otlpResolution) {
		if len(servedPoints(t, e, monitor, Range{From: w, To: w.Add(otlpResolution)})) > 0 {
			return w
		}
	}
	return to
}

// TestOTLPBackendFailuresKeepTheCheckpointAndLoseNothing: a backend that throttles, is down,
// accepts only in part or cannot be reached makes the monitor fail at the window it refused; the
// checkpoint stays there, the next run sends the rest, and the receiver ends up with every
// point and event the simulator served: no point missing, none unexpected, duplicates only for
// a window the backend had taken before the sink was told it failed.
func TestOTLPBackendFailuresKeepTheCheckpointAndLoseNothing(t *testing.T) {
	start, end := ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z")
	cut := ts("2026-11-25T09:35:00Z")
	metricMonitors := []string{"hm", "exm"}
	cases := []struct {
		name    string
		mode    string // fault of the backend in run 1; "" with unreachable
		cut     time.Time
		failing []string // monitors that fail in run 1
		errText string   // in the error of every failing monitor ("" with unreachable: the address)
		retried bool     // the sink tried a failing request MaxRetries+1 times
	}{
		{name: "429 with Retry-After", mode: faultThrottle, cut: cut, failing: []string{"hm", "exm", "status"},
			errText: "HTTP 429 Too Many Requests: too many requests, slow down (after 2 attempts)", retried: true},
		{name: "503", mode: faultDown, cut: cut, failing: []string{"hm", "exm", "status"},
			errText: "HTTP 503 Service Unavailable: backend unavailable (after 2 attempts)", retried: true},
		{name: "partial success", mode: faultPartial, cut: cut, failing: []string{"hm"},
			errText: "partial success: the backend rejected 1 of"},
		{name: "unreachable", cut: start, failing: []string{"hm", "exm", "status"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rcv := otlptest.Start(t)
			be := newFaultBackend(t, rcv.Endpoint)
			e := newEnv(t, append(slices.Clone(metricMonitors), "status")...)
			errText := tc.errText
			if tc.mode == faultNone {
				addr := closedAddr(t)
				e.r.Sinks = []Sink{newOTLPSink(t, "http://"+addr)}
				errText = "POST http://" + addr + "/v1/"
			} else {
				be.set(tc.mode, tc.cut)
				e.r.Sinks = []Sink{newOTLPSink(t, be.url)}
			}

			// Run 1: the backend fails.
			s1 := e.r.Run(ctx, Request{})
			if s1.OK {
				t.Fatalf("run 1 succeeded against a failing backend: %+v", s1)
			}
			for _, m := range metricMonitors {
				ms := summaryOf(t, s1, m)
				failing := slices.Contains(tc.failing, m)
				wantNext := end
				if failing {
					wantNext = firstWindowWithData(t, e, m, tc.cut, end)
				}
				cp, ok, err := e.store.Get(ctx, e.r.Tenant, m)
				if err != nil || !ok {
					t.Fatalf("%s: checkpoint after run 1: %v %v", m, ok, err)
				}
				switch {
				case failing && wantNext.Equal(end):
					t.Fatalf("%s: the simulator has no points from %s on: the fault cannot hit", m, tc.cut)
				case failing && (ms.Error == "" || !strings.Contains(ms.Error, errText)):
					t.Errorf("%s: run 1 error %q, want one containing %q", m, ms.Error, errText)
				case failing && !strings.Contains(cp.LastError, errText):
					t.Errorf("%s: checkpoint error %q, want one containing %q", m, cp.LastError, errText)
				case !failing && ms.Error != "":
					t.Errorf("%s: run 1 failed: %s", m, ms.Error)
				}
				if !cp.Next.Equal(wantNext) || !ms.To.Equal(wantNext) {
					t.Errorf("%s: after run 1 the checkpoint is %s (summary to %s), want %s", m, cp.Next, ms.To, wantNext)
				}
				if n := int(wantNext.Sub(start) / otlpResolution); ms.Windows != n {
					t.Errorf("%s: run 1 delivered %d windows, want %d (%s–%s)", m, ms.Windows, n, start, wantNext)
				}
			}
			st := summaryOf(t, s1, "status")
			marks, err := e.store.Marks(ctx, e.r.Tenant, "status", e.r.Now())
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(tc.failing, "status") {
				if st.Error == "" || !strings.Contains(st.Error, errText) {
					t.Errorf("status: run 1 error %q, want one containing %q", st.Error, errText)
				}
				if len(marks) != 0 {
					t.Errorf("status: %d events marked as delivered after a failed delivery", len(marks))
				}
			} else if st.Error != "" || len(marks) == 0 {
				t.Errorf("status: run 1 error %q, %d marks; want a delivery", st.Error, len(marks))
			}
			hits := be.hitCounts()
			for _, m := range tc.failing {
				signal := "metrics"
				if m == "status" {
					signal = "logs"
				}
				want := 0
				switch {
				case tc.mode == faultNone:
				case tc.retried:
					want = otlpRetries + 1
				default:
					want = 1
				}
				if got := hits[m+"/"+signal]; got != want {
					t.Errorf("%s: the backend refused %d %s requests, want %d", m, got, signal, want)
				}
			}

			// Run 2: the backend is back.
			be.set(faultNone, time.Time{})
			e.r.Sinks = []Sink{newOTLPSink(t, be.url)}
			s2 := e.r.Run(ctx, Request{})
			mustOK(t, s2)
			rngs := map[string]Range{}
			for _, m := range metricMonitors {
				cp, _, err := e.store.Get(ctx, e.r.Tenant, m)
				if err != nil || !cp.Next.Equal(end) || cp.LastError != "" {
					t.Errorf("%s: checkpoint after run 2 = %+v (%v), want %s without an error", m, cp, err, end)
				}
				rngs[m] = Range{From: start, To: end}
			}
			want := expectedPoints(t, e, rngs)
			checkPoints(t, e.r.Tenant, receivedPoints(t, rcv), want, be.wasTaken)
			if tc.mode == faultPartial && !be.wasTaken("hm", firstWindowWithData(t, e, "hm", tc.cut, end)) {
				t.Error("the partial success did not hit the window it was meant for")
			}
			st2 := summaryOf(t, s2, "status")
			events := e.sim.ExpectedEvents(st2.From, st2.To)
			if len(events) == 0 {
				t.Fatal("the simulator has no status events in the lookback")
			}
			checkEvents(t, e.r.Tenant, receivedLogs(rcv), events)
		})
	}
}
