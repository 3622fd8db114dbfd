package collect

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/otlptest"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// Logs makes cannedClient a Client: it serves no log records (the logs monitor is tested
// against the simulator below).
func (c *cannedClient) Logs(context.Context, calm.LogsQuery) iter.Seq2[calm.LogsPage, error] {
	return func(yield func(calm.LogsPage, error) bool) {
		yield(calm.LogsPage{Logs: plog.NewLogs(), Total: 0}, nil)
	}
}

const simLogsPath = "/api/calm-logs/v1/logs"

// logsEnv is a runner collecting the logs monitor from a simulator behind front (nil: the
// simulator as it is).
func logsEnv(t *testing.T, cfg sim.Config, front func(http.Handler) http.Handler) *env {
	t.Helper()
	e := &env{clock: testkit.NewClock(t0), sink: &testkit.MemSink[sink.Batch]{}}
	cfg.Now = e.clock.Now
	e.sim = sim.New(cfg)
	var h http.Handler = e.sim
	if front != nil {
		h = front(e.sim)
	}
	srv := httptest.NewServer(h) // 127.0.0.1
	t.Cleanup(srv.Close)
	conn, _ := json.Marshal(map[string]string{"name": "sim", "authenticationServer": srv.URL, "url": srv.URL,
		"clientId": sim.DefaultClientID, "clientSecret": sim.DefaultClientSecret})
	e.connect(t, conn, []string{"logs"})
	return e
}

// capEvenWithTruncate drops onLimit from logs requests: the simulator then refuses a range
// holding more than its LogsCap records with 403 "Response total count is over the limit", as
// an API that caps the count whatever onLimit says would.
func capEvenWithTruncate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == simLogsPath {
			q := r.URL.Query()
			q.Del("onLimit")
			r.URL.RawQuery = q.Encode()
		}
		h.ServeHTTP(w, r)
	})
}

// checkLogsExactlyOnce checks that recs are exactly the simulator's log records of [from, to),
// each once, with time, body and attributes intact.
func checkLogsExactlyOnce(t *testing.T, e *env, recs []record.Record, from, to time.Time) {
	t.Helper()
	want := map[string]sim.LogRecord{}
	for _, l := range e.sim.ExpectedLogs(e.sim.ServiceIDs(), from, to) {
		want[l.ExceptionID] = l
	}
	if len(want) == 0 {
		t.Fatal("the simulator holds no log records in the range; the test proves nothing")
	}
	got := map[string]bool{}
	for _, r := range recs {
		id := r.Attr("exceptionId")
		if got[id] {
			t.Errorf("log record %s delivered twice", id)
		}
		got[id] = true
		w, ok := want[id]
		if !ok {
			t.Errorf("record %s %s %v is not a log record of the simulator in range", r.Name(), r.Time, r.AttrMap())
			continue
		}
		if r.Kind() != record.KindLog || !r.Time.Equal(w.Time) || r.Body != w.Body || r.Attr("serviceId") != w.ServiceID ||
			r.Attr("categoryName") != w.CategoryName || r.Attr("severityText") != "ERROR" || r.Name() != "sap.calm.exm" {
			t.Errorf("record %+v does not match the simulator's %+v", r, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("delivered %d log records, the simulator holds %d", len(got), len(want))
	}
}

func TestLogsTwoScheduledRunsDeliverEveryRecordExactlyOnce(t *testing.T) {
	e := logsEnv(t, sim.Config{}, nil)
	s1 := e.r.Run(context.Background(), Request{})
	mustOK(t, s1)
	e.clock.Advance(23 * time.Minute) // 10:30 → due up to 10:25
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	if s1.Monitors[0].Windows != 12 || s2.Monitors[0].Windows != 4 {
		t.Errorf("windows %d then %d, want 12 then 4", s1.Monitors[0].Windows, s2.Monitors[0].Windows)
	}
	checkLogsExactlyOnce(t, e, records(e.sink, "logs"), ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:25:00Z"))
	for _, b := range e.sink.Batches() {
		for r := range b.Records() {
			if r.Time.Before(b.From) || !r.Time.Before(b.To) {
				t.Errorf("record at %s in window %s", r.Time, fmtRange(Range{b.From, b.To}))
			}
		}
	}
	cp, ok, err := e.store.Get(context.Background(), e.r.Tenant, "logs")
	if err != nil || !ok || !cp.Next.Equal(ts("2026-11-25T10:25:00Z")) || cp.LastError != "" {
		t.Errorf("checkpoint %+v %v %v", cp, ok, err)
	}
	// Steady state: the service discovery and one request per service (the windows 10:05–10:25
	// cross no multiple of the settle horizon: no re-check).
	if got, want := s2.Monitors[0].Requests, int64(1+len(e.sim.ServiceIDs())); got != want {
		t.Errorf("second run made %d requests, want %d", got, want)
	}
}

// A simulator that serves at most LogsCap records per request (with onLimit=truncate) is paged
// through by its page size.
func TestLogsSmallServerPagesDeliverEverything(t *testing.T) {
	e := logsEnv(t, sim.Config{LogsCap: 3}, nil)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	checkLogsExactlyOnce(t, e, records(e.sink, "logs"), ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"))
	if s.Monitors[0].Requests <= int64(1+2*len(e.sim.ServiceIDs())) {
		t.Errorf("%d requests: the small pages were not paged through", s.Monitors[0].Requests)
	}
}

// A range over the API's count cap is asked for in halves until each part fits; everything is
// delivered once.
func TestLogsRangeOverTheCapIsSplit(t *testing.T) {
	e := logsEnv(t, sim.Config{LogsCap: 4}, capEvenWithTruncate)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	checkLogsExactlyOnce(t, e, records(e.sink, "logs"), ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"))
	if got := e.sim.Requests()[simLogsPath]; got <= 2*len(e.sim.ServiceIDs()) {
		t.Errorf("%d logs requests for %d services: the range was not split", got, len(e.sim.ServiceIDs()))
	}
	cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "logs")
	if !cp.Next.Equal(ts("2026-11-25T10:05:00Z")) {
		t.Errorf("checkpoint %s, want 10:05", cp.Next)
	}
}

// A single minute over the cap fails the span with an error naming the service and the minute;
// nothing of the span is delivered and the checkpoint stays.
func TestLogsMinuteOverTheCapFailsAndKeepsTheCheckpoint(t *testing.T) {
	e := logsEnv(t, sim.Config{LogsCap: 1}, capEvenWithTruncate)
	s := e.r.Run(context.Background(), Request{})
	m := s.Monitors[0]
	if s.OK || !strings.Contains(m.Error, "collect logs 2026-11-25T09:05Z–2026-11-25T10:05Z: service ") ||
		!strings.Contains(m.Error, "even for a range of 1m0s, the shortest asked for; nothing of the span is delivered") ||
		!strings.Contains(m.Error, "Response total count is over the limit") {
		t.Fatalf("summary = %+v", m)
	}
	if n := len(records(e.sink, "logs")); n != 0 || m.Windows != 0 {
		t.Errorf("%d records in %d windows delivered from a failed span", n, m.Windows)
	}
	cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "logs")
	if !cp.Next.Equal(ts("2026-11-25T09:05:00Z")) || cp.LastError == "" {
		t.Errorf("checkpoint %+v, want unmoved with the error", cp)
	}
}

func TestHalves(t *testing.T) {
	at := func(s string) time.Time { return ts("2026-11-25T" + s + "Z") }
	for _, tt := range []struct {
		from, to string
		res      time.Duration
		mid      string // "" = cannot split
	}{
		{"10:00:00", "11:00:00", 5 * time.Minute, "10:30:00"},
		{"10:00:00", "10:15:00", 5 * time.Minute, "10:05:00"}, // resolution boundary before the middle
		{"10:00:00", "10:05:00", 5 * time.Minute, "10:02:00"}, // at the resolution: minutes
		{"10:00:00", "10:02:00", 5 * time.Minute, "10:01:00"},
		{"10:00:10", "10:01:20", time.Minute, "10:00:45"}, // not on minutes: seconds
		{"10:00:00", "10:01:00", time.Minute, ""},
		{"10:00:00", "10:00:40", 0, ""},
		{"10:00:00", "10:10:00", 0, "10:05:00"}, // unknown resolution
	} {
		a, b, ok := halves(Range{at(tt.from), at(tt.to)}, tt.res)
		switch {
		case tt.mid == "" && ok:
			t.Errorf("%s–%s split at %s, want no split", tt.from, tt.to, a.To)
		case tt.mid != "" && (!ok || !a.To.Equal(at(tt.mid)) || !b.From.Equal(a.To) || !a.From.Equal(at(tt.from)) || !b.To.Equal(at(tt.to))):
			t.Errorf("%s–%s res %s: %v %v %v, want split at %s", tt.from, tt.to, tt.res, a, b, ok, tt.mid)
		}
	}
}

// overLimitClient answers ErrOverLimit for ranges longer than max and otherwise serves
// the same log line twice (a re-served line): the monitor emits it once per range.
type overLimitClient struct {
	cannedClient
	max       time.Duration
	ranges    []Range
	providers []string
}

func (c *overLimitClient) Logs(_ context.Context, q calm.LogsQuery) iter.Seq2[calm.LogsPage, error] {
	c.ranges = append(c.ranges, Range{q.From, q.To})
	c.providers = append(c.providers, q.Provider)
	return func(yield func(calm.LogsPage, error) bool) {
		if q.To.Sub(q.From) > c.max {
			yield(calm.LogsPage{}, errors.Join(calm.ErrOverLimit, errors.New("403")))
			return
		}
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
		for range 2 {
			l := lr.AppendEmpty()
			l.SetTimestamp(pcommon.NewTimestampFromTime(q.From))
			l.Body().SetStr("same line")
		}
		if !yield(calm.LogsPage{Logs: ld, Records: 2}, nil) {
			return
		}
	}
}

func TestLogsFetchSplitsAndEmitsEachLineOnce(t *testing.T) {
	c := &overLimitClient{cannedClient: cannedClient{services: []calm.Service{{ID: "svc-1", Name: "S4H.100"}}}, max: 20 * time.Minute}
	q := Query{Tenant: "t", From: ts("2026-11-25T10:00:00Z"), To: ts("2026-11-25T11:00:00Z"), Resolution: "5Mi"}
	var recs []record.Record
	if err := Lookup("logs").Fetch(context.Background(), c, q, func(r record.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.ranges {
		got = append(got, r.From.Format("15:04")+"-"+r.To.Format("15:04"))
	}
	if want := "10:00-11:00 10:00-10:30 10:00-10:15 10:15-10:30 10:30-11:00 10:30-10:45 10:45-11:00"; strings.Join(got, " ") != want {
		t.Errorf("ranges asked = %s\nwant %s", strings.Join(got, " "), want)
	}
	if len(recs) != 4 {
		t.Errorf("%d records, want 4 (one line per fitting range, its repeat dropped)", len(recs))
	}
}

// End to end: log records collected from the simulator arrive at a real OTLP receiver as
// OTLP logs with body, attributes, severity and timestamps intact.
func TestLogsToOTLPReceiver(t *testing.T) {
	e := logsEnv(t, sim.Config{}, nil)
	rcv := otlptest.Start(t)
	out, err := sink.NewOTLP("otlp+"+rcv.Endpoint, sink.OTLPOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close(context.Background()) })
	e.r.Sinks = []Sink{out, e.sink}
	mustOK(t, e.r.Run(context.Background(), Request{}))
	from, to := ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z")
	want := map[string]sim.LogRecord{}
	for _, l := range e.sim.ExpectedLogs(e.sim.ServiceIDs(), from, to) {
		want[l.ExceptionID] = l
	}
	byID := map[string]record.Record{}
	for _, r := range records(e.sink, "logs") {
		byID[r.ID] = r
	}
	if n := rcv.Logs.LogRecordCount(); n != len(want) || n == 0 {
		t.Fatalf("receiver got %d log records, the simulator holds %d", n, len(want))
	}
	for _, ld := range rcv.Logs.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			if m, _ := rl.Resource().Attributes().Get("calm.monitor"); m.Str() != "logs" {
				t.Errorf("resource calm.monitor = %q", m.Str())
			}
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					attrs := lr.Attributes()
					exc, _ := attrs.Get("exceptionId")
					w, ok := want[exc.Str()]
					if !ok {
						t.Errorf("log record %v is not the simulator's", attrs.AsRaw())
						continue
					}
					delete(want, exc.Str())
					svc, _ := attrs.Get("serviceId")
					cat, _ := attrs.Get("categoryId")
					id, _ := attrs.Get("calm.record.id")
					if lr.Body().Str() != w.Body || !lr.Timestamp().AsTime().Equal(w.Time) || svc.Str() != w.ServiceID ||
						cat.Str() != w.CategoryID || lr.SeverityText() != "ERROR" || lr.SeverityNumber() != plog.SeverityNumberError {
						t.Errorf("log record %s: body %q time %s attrs %v severity %s/%d; want %+v", exc.Str(), lr.Body().Str(),
							lr.Timestamp().AsTime(), attrs.AsRaw(), lr.SeverityText(), lr.SeverityNumber(), w)
					}
					if r, ok := byID[id.Str()]; !ok || r.Attr("exceptionId") != exc.Str() {
						t.Errorf("log record %s: calm.record.id %q is not the id of its record", exc.Str(), id.Str())
					}
				}
			}
		}
	}
	if len(want) != 0 {
		t.Errorf("%d log records of the simulator did not arrive", len(want))
	}
}

// A span longer than an hour is asked for hour by hour (a live tenant caps a logs query at 60
// minutes), each request with the monitor's own log provider.
func TestLogsFetchAsksAtMostAnHourWithTheProvider(t *testing.T) {
	for _, id := range []string{"logs", "logs-jam-run-step"} {
		c := &overLimitClient{cannedClient: cannedClient{services: []calm.Service{{ID: "svc-1", Name: "S4H.100"}}}, max: 2 * time.Hour}
		q := Query{Tenant: "t", From: ts("2026-11-25T10:00:00Z"), To: ts("2026-11-25T12:30:00Z"), Resolution: "5Mi"}
		if err := Lookup(id).Fetch(context.Background(), c, q, func(record.Record) {}); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range c.ranges {
			got = append(got, r.From.Format("15:04")+"-"+r.To.Format("15:04"))
		}
		if want := "10:00-11:00 11:00-12:00 12:00-12:30"; strings.Join(got, " ") != want {
			t.Errorf("%s: ranges asked = %s, want %s", id, strings.Join(got, " "), want)
		}
		want := map[string]string{"logs": "exm.im", "logs-jam-run-step": "jam.run_step"}[id]
		for _, p := range c.providers {
			if p != want {
				t.Errorf("%s: provider %q, want %q", id, p, want)
			}
		}
	}
}
