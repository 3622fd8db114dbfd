package collect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/sim"
)

// A tenant that cuts every result set at 100 points (onLimit=TRUNCATE with a server cap): the
// first run's hour is cut, its halves hold more, so it is read in parts, exactly; the cap is
// learned and kept in the checkpoint.
func TestResultSetCutAtACapIsReadInParts(t *testing.T) {
	b, _ := sim.ParseBehaviours("truncate-cap")
	e := newEnvWith(t, sim.Config{Behaviours: b}, "hm")
	if n := len(e.expectedIDs("hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"))); n <= 100 {
		t.Fatalf("the simulator holds %d points of the hour, not more than the cap: the test proves nothing", n)
	}
	s := e.r.Run(context.Background(), Request{})
	mustOK(t, s)
	e.checkExactlyOnce(t, "hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T10:05:00Z"))
	if cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "hm"); cp.Cap != 100 {
		t.Errorf("cap in the checkpoint = %d, want 100", cp.Cap)
	}
}

// A single window over the cap cannot be split: it fails the uncut invariant, loudly, and
// its checkpoint stays before it.
func TestAWindowCutAtACapFailsLoudly(t *testing.T) {
	b, _ := sim.ParseBehaviours("truncate-cap")
	e := newEnvWith(t, sim.Config{Behaviours: b, Services: 60}, "hm")
	if n := len(e.expectedIDs("hm", ts("2026-11-25T09:05:00Z"), ts("2026-11-25T09:10:00Z"))); n <= 100 {
		t.Fatalf("the simulator holds %d points of a window, not more than the cap: the test proves nothing", n)
	}
	s := e.r.Run(context.Background(), Request{})
	m := s.Monitors[0]
	if s.OK || m.Status != "incomplete" || m.Invariant != InvariantUncut || !strings.Contains(m.Detail, "cannot be split") {
		t.Fatalf("summary = %+v, want incomplete naming the uncut invariant", m)
	}
	if cp, _, _ := e.store.Get(context.Background(), e.r.Tenant, "hm"); !cp.Next.Equal(ts("2026-11-25T09:05:00Z")) {
		t.Errorf("checkpoint moved to %s past a cut window", cp.Next)
	}
	if len(records(e.sink, "hm")) != 0 {
		t.Error("records of a cut span were delivered")
	}
}

func TestSplitWindows(t *testing.T) {
	r := Range{From: ts("2026-11-25T09:00:00Z"), To: ts("2026-11-25T09:25:00Z")}
	a, b, ok := splitWindows(r, 5*time.Minute)
	if !ok || !a.To.Equal(ts("2026-11-25T09:10:00Z")) || !b.From.Equal(a.To) || !a.From.Equal(r.From) || !b.To.Equal(r.To) {
		t.Errorf("split = %v %v %v", a, b, ok)
	}
	if _, _, ok := splitWindows(Range{From: r.From, To: r.From.Add(5 * time.Minute)}, 5*time.Minute); ok {
		t.Error("a single window was split")
	}
}
