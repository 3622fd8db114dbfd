package collect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/sim"
)

// The logs and traces monitors go through the window invariants as the metrics monitors do
// (docs/design.md §7): late records are delivered once after their window, a result set cut at
// a cap is read in parts, and a window cut on its own fails loudly.

// A tenant whose log records are served 7 minutes after their minute: the first run (10:07)
// delivers 10:00–10:05 empty. The logs monitor re-checks once per settle horizon: the run at
// 10:17 asks nothing more (and delivers 10:10–10:15 empty); the run at 10:37, whose windows cross
// 10:30, finds 10:00–10:05 and 10:10–10:15 grown with a count per service and halving, reads
// them again and delivers their records once, as late batches.
func TestLateLogRecordsAreDeliveredOnceAfterTheirWindow(t *testing.T) {
	b, err := sim.ParseBehaviours("late-records")
	if err != nil {
		t.Fatal(err)
	}
	e := logsEnv(t, sim.Config{Behaviours: b}, nil)
	mustOK(t, e.r.Run(context.Background(), Request{}))
	if n := len(e.sim.ExpectedLogs(e.sim.ServiceIDs(), ts("2026-11-25T10:00:00Z"), ts("2026-11-25T10:05:00Z"))); n != 0 {
		t.Fatalf("the simulator serves %d records of 10:00–10:05 at 10:07: the test proves nothing", n)
	}
	e.clock.Advance(10 * time.Minute)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	if m := s.Monitors[0]; m.Late != 0 || m.Requests != int64(1+len(e.sim.ServiceIDs())) {
		t.Errorf("10:17: late %d, %d requests; want no re-check (0 late, the discovery and a request per service)", m.Late, m.Requests)
	}
	e.clock.Advance(20 * time.Minute)
	s = e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	lateWindows := map[time.Time]int{}
	for _, from := range []time.Time{ts("2026-11-25T10:00:00Z"), ts("2026-11-25T10:10:00Z")} {
		lateWindows[from] = len(e.sim.ExpectedLogs(e.sim.ServiceIDs(), from, from.Add(5*time.Minute)))
	}
	late := lateWindows[ts("2026-11-25T10:00:00Z")] + lateWindows[ts("2026-11-25T10:10:00Z")]
	if lateWindows[ts("2026-11-25T10:00:00Z")] == 0 || s.Monitors[0].Late != late {
		t.Errorf("late = %d, want the %d records of 10:00–10:05 and 10:10–10:15", s.Monitors[0].Late, late)
	}
	checkLogsExactlyOnce(t, e, records(e.sink, "logs"), ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:35:00Z"))
	lateBatches := 0
	for _, bt := range e.sink.Batches() {
		if bt.Late {
			lateBatches++
			if want, ok := lateWindows[bt.From]; !ok || bt.Len() != want || bt.Before != 0 {
				t.Errorf("late batch %s with %d records after %d, want one of 10:00 or 10:10 with all its records after 0", fmtRange(Range{bt.From, bt.To}), bt.Len(), bt.Before)
			}
		}
	}
	if lateBatches != 2 {
		t.Errorf("%d late batches, want 2", lateBatches)
	}
}

// A tenant that cuts every logs result set at 10 records (onLimit=TRUNCATE with a server cap,
// x-total-count saying the cut size): the first run's hour is cut, its halves hold more, so it
// is read in parts, exactly; the cap is learned and kept in the checkpoint.
func TestLogsResultSetCutAtACapIsReadInParts(t *testing.T) {
	e := logsEnv(t, sim.Config{Behaviours: sim.Behaviours{TruncateCap: 10}}, nil)
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	checkLogsExactlyOnce(t, e, records(e.sink, "logs"), ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"))
	if cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "logs"); cp.Cap != 10 {
		t.Errorf("cap in the checkpoint = %d, want 10", cp.Cap)
	}
}

// A window whose log records are cut at the cap on their own cannot be split: it fails the
// uncut invariant, loudly, nothing of its span is delivered and its checkpoint stays before it.
func TestALogsWindowCutAtACapFailsLoudly(t *testing.T) {
	e := logsEnv(t, sim.Config{Behaviours: sim.Behaviours{TruncateCap: 1}}, nil)
	s := e.r.Run(context.Background(), Request{})
	m := s.Monitors[0]
	if s.OK || m.Status != "incomplete" || m.Invariant != InvariantUncut || !strings.Contains(m.Detail, "cannot be split") {
		t.Fatalf("summary = %+v, want incomplete naming the uncut invariant", m)
	}
	if cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "logs"); !cp.Next.Equal(ts("2026-11-25T09:05:00Z")) {
		t.Errorf("checkpoint moved to %s past a cut window", cp.Next)
	}
	if n := len(records(e.sink, "logs")); n != 0 {
		t.Errorf("%d records of a cut span were delivered", n)
	}
}
