package collect

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/sink"
	"github.com/calm-collector/calm-collector/internal/state"
	"github.com/calm-collector/calm-collector/internal/testkit"
)

// A tenant that fills a bucket 7 minutes after it closes: the first run (10:07) delivers the
// window 10:00–10:05 empty; the run 10 minutes later finds it grown with its one count, reads it
// again and delivers its points once, in a late batch of their own, and learns the delay.
func TestLateDataIsDeliveredOnceAfterItsWindow(t *testing.T) {
	b, err := sim.ParseBehaviours("late-buckets")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, sim.Config{Behaviours: b}, "hm")
	s1 := e.r.Run(context.Background(), Request{})
	mustOK(t, s1)
	if n := len(e.sim.Expected("hm", ts("2026-11-25T10:00:00Z"), ts("2026-11-25T10:05:00Z"), 5*time.Minute)); n != 0 {
		t.Fatalf("the simulator serves %d points of 10:00–10:05 at 10:07: the test proves nothing", n)
	}
	e.clock.Advance(10 * time.Minute)
	s2 := e.r.Run(context.Background(), Request{})
	mustOK(t, s2)
	late := e.expectedIDs("hm", ts("2026-11-25T10:00:00Z"), ts("2026-11-25T10:05:00Z"))
	if len(late) == 0 || s2.Monitors[0].Late != len(late) {
		t.Errorf("late = %d, want the %d points of 10:00–10:05", s2.Monitors[0].Late, len(late))
	}
	e.checkExactlyOnce(t, "hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:15:00Z"))
	var lateBatches int
	for _, bt := range e.sink.Batches() {
		if bt.Late {
			lateBatches++
			if !bt.From.Equal(ts("2026-11-25T10:00:00Z")) || bt.Len() != len(late) || bt.Before != 0 {
				t.Errorf("late batch %s–%s with %d records after %d, want 10:00–10:05 with %d after 0", bt.From, bt.To, bt.Len(), bt.Before, len(late))
			}
		}
	}
	if lateBatches != 1 {
		t.Errorf("%d late batches, want 1", lateBatches)
	}
	if d, ok, err := UsualDelay(context.Background(), e.store, e.r.Tenant); d != 12*time.Minute || !ok || err != nil {
		t.Errorf("usual delay = %s %v %v, want 12m (found at 10:17 for a window ending 10:05)", d, ok, err)
	}
	// Every run finds the newest window of the run before grown: 10:10–10:15 at 10:22.
	e.clock.Advance(5 * time.Minute)
	s3 := e.r.Run(context.Background(), Request{})
	mustOK(t, s3)
	if want := len(e.expectedIDs("hm", ts("2026-11-25T10:10:00Z"), ts("2026-11-25T10:15:00Z"))); want == 0 || s3.Monitors[0].Late != want {
		t.Errorf("third run: late %d, want %d", s3.Monitors[0].Late, want)
	}
	e.checkExactlyOnce(t, "hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:20:00Z"))
}

// With the settle horizon off, the same tenant loses the late bucket: the re-check is what
// delivers it (the test above would pass without it otherwise).
func TestWithoutSettleLateDataIsNotAskedForAgain(t *testing.T) {
	b, _ := sim.ParseBehaviours("late-buckets")
	e := newEnvWith(t, sim.Config{Behaviours: b}, "hm")
	e.r.Config.Settle = 0
	mustOK(t, e.r.Run(context.Background(), Request{}))
	e.clock.Advance(10 * time.Minute)
	s := e.r.Run(context.Background(), Request{})
	if s.Monitors[0].Late != 0 || s.Monitors[0].Requests != 1 {
		t.Errorf("settle off: late %d, %d requests; want 0 and 1", s.Monitors[0].Late, s.Monitors[0].Requests)
	}
	got := map[string]bool{}
	for _, r := range records(e.sink, "hm") {
		got[r.ID] = true
	}
	for id := range e.expectedIDs("hm", ts("2026-11-25T10:00:00Z"), ts("2026-11-25T10:05:00Z")) {
		if got[id] {
			t.Fatal("a late point was delivered without the re-check")
		}
	}
}

func TestWindowMarkRoundTrip(t *testing.T) {
	recs := []record.Record{
		{Series: record.NewSeries("", "", "", "value", "", false, map[string]string{"s": "a"}), Point: record.Point{ID: "00112233445566778899aabbccddeeff", Time: ts("2026-11-25T10:00:00Z")}},
		{Series: record.NewSeries("", "", "", "usage", "", false, map[string]string{"s": "a"}), Point: record.Point{ID: "ffeeddccbbaa99887766554433221100", Time: ts("2026-11-25T10:00:00Z")}},
		{Series: record.NewSeries("", "", "", "value", "", false, map[string]string{"s": "b"}), Point: record.Point{ID: "not-hex", Time: ts("2026-11-25T10:00:00Z")}},
	}
	w := markOf(ts("2026-11-25T10:00:00Z"), record.Runs(recs))
	if w.points != 3 || w.rows != 2 {
		t.Errorf("points %d rows %d, want 3 and 2 (two measures of one series share a row)", w.points, w.rows)
	}
	got, ok := decodeWindowMark(w.key(), state.Mark{Hash: w.encode()})
	if !ok || !got.from.Equal(w.from) || got.points != 3 || got.rows != 2 || !slices.Equal(got.ids, w.ids) {
		t.Fatalf("round trip = %+v %v, want %+v", got, ok, w)
	}
	for _, r := range recs {
		if !got.has(r.ID) {
			t.Errorf("mark lost %s", r.ID)
		}
	}
	if got.has("0f112233445566778899aabbccddeeff") {
		t.Error("an id never delivered is in the mark")
	}
	for _, bad := range []state.Mark{{Hash: "v2 1 1 AA"}, {Hash: "v1 x 1 "}, {Hash: "event hash"}} {
		if _, ok := decodeWindowMark(w.key(), bad); ok {
			t.Errorf("decoded %q", bad.Hash)
		}
	}
	if _, ok := decodeWindowMark("evt-1", state.Mark{Hash: w.encode()}); ok || !strings.HasPrefix(w.key(), windowMarkPrefix) {
		t.Error("an event mark's key taken for a window's")
	}
}

// A run that comes a settle horizon after the one before (a missed run, a longer schedule)
// still re-checks what that one delivered: the horizon is counted back from the checkpoint.
func TestLateDataIsFoundByARunAHorizonLater(t *testing.T) {
	b, _ := sim.ParseBehaviours("late-buckets")
	e := newEnvWith(t, sim.Config{Behaviours: b}, "hm")
	mustOK(t, e.r.Run(context.Background(), Request{}))
	e.clock.Advance(e.r.Config.Settle)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	late := e.expectedIDs("hm", ts("2026-11-25T10:00:00Z"), ts("2026-11-25T10:05:00Z"))
	if len(late) == 0 || s.Monitors[0].Late != len(late) {
		t.Errorf("late = %d, want the %d points of 10:00–10:05", s.Monitors[0].Late, len(late))
	}
	e.checkExactlyOnce(t, "hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:35:00Z"))
}

// gateReads holds an API read of more than one row until a limit=1 count has been asked (or
// until its patience runs out, which it reports): a transport that tells whether the two went
// out side by side.
type gateReads struct {
	on        atomic.Bool
	counted   chan struct{}
	once      sync.Once
	waitedOut atomic.Int32
}

func (g *gateReads) RoundTrip(req *http.Request) (*http.Response, error) {
	if limit := req.URL.Query().Get("limit"); g.on.Load() && limit != "" {
		if limit == "1" {
			g.once.Do(func() { close(g.counted) })
		} else if n, _ := strconv.Atoi(limit); n > 100 {
			select {
			case <-g.counted:
			case <-time.After(5 * time.Second):
				g.waitedOut.Add(1)
			}
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// The settle re-check's first count goes out while the run reads its windows, not after them:
// a steady-state run waits for one answer where it waited for two in a row (BENCHMARKS.md, the
// steady-state run). The window's read is held until the count has been asked; asked after the
// windows, the count never comes while the read waits, and the read gives up.
func TestSettleCountIsAskedBesideTheWindows(t *testing.T) {
	gate := &gateReads{counted: make(chan struct{})}
	e := &env{clock: testkit.NewClock(t0), sink: &testkit.MemSink[sink.Batch]{}}
	e.sim = sim.New(sim.Config{Now: e.clock.Now})
	if err := e.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sim.Close() })
	e.connect(t, e.sim.ConnectorJSON(), []string{"hm"})
	settings, _, err := calm.ParseSettings(e.sim.ConnectorJSON())
	if err != nil {
		t.Fatal(err)
	}
	client, err := calm.New(settings, calm.Options{HTTPClient: &http.Client{Transport: gate}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e.r.Client, e.r.Scopes = client, client.Tokens()
	mustOK(t, e.r.Run(context.Background(), Request{})) // catches up and marks the windows
	e.clock.Advance(5 * time.Minute)
	gate.on.Store(true)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	select {
	case <-gate.counted:
	default:
		t.Fatal("the second run asked no limit=1 count: the test proves nothing")
	}
	if n := gate.waitedOut.Load(); n > 0 {
		t.Errorf("%d window reads waited 5 s for the settle count: it was asked after them, not beside them", n)
	}
	e.checkExactlyOnce(t, "hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:10:00Z"))
}
