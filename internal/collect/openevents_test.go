package collect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/sim"
	"github.com/calm-collector/calm-collector/internal/state"
)

// An events API that filters on start time never returns an event that started before the
// asked range. Scheduled runs every six hours over five days must still see every event that
// lasted longer than the lookback end: the open events are kept in the marks and read back to.
func TestOpenEventsAreSeenToCloseWhenTheAPIFiltersOnStart(t *testing.T) {
	e := newEnvWith(t, sim.Config{Behaviours: sim.Behaviours{StartFilteredEvents: true}}, "status")
	const runs = 21
	for i := range runs {
		if i > 0 {
			e.clock.Advance(6 * time.Hour)
		}
		mustOK(t, e.r.Run(context.Background(), Request{}))
	}
	end := e.clock.Now() // the last run's time: the simulator's answers below are as of it
	lookback := DefaultConfig().EventLookback
	resolved := map[string]bool{}
	ids := map[string]bool{}
	for _, r := range records(e.sink, "status") {
		if ids[r.ID] {
			t.Errorf("event record %s delivered twice", r.ID)
		}
		ids[r.ID] = true
		if r.Attr("eventStatus") == "Resolved" {
			resolved[r.Attr("eventId")] = true
		}
	}
	long := 0
	for _, ev := range e.sim.ExpectedEvents(t0.Add(-lookback), end) {
		start, _ := time.Parse(time.RFC3339, ev.EventStartTime)
		if ev.EventStatus != "Resolved" || start.Before(t0.Add(-lookback)) {
			continue
		}
		stop, _ := time.Parse(time.RFC3339, ev.EventEndTime)
		if stop.Sub(start) > lookback+6*time.Hour {
			long++ // a run that asks for the lookback only never sees this one resolved
		}
		if !resolved[ev.EventID] {
			t.Errorf("event %s (%s, %s–%s) was never delivered resolved", ev.EventID, ev.EventType, ev.EventStartTime, ev.EventEndTime)
		}
	}
	if long == 0 {
		t.Fatal("no event outlasted the lookback: the test proves nothing")
	}
	t.Logf("%d resolved events delivered, %d of them longer than the lookback", len(resolved), long)
}

func TestEventReachStopsAtTheLongestReach(t *testing.T) {
	now := ts("2026-11-25T10:00:00Z")
	lookback := Range{From: now.Add(-24 * time.Hour), To: now}
	from, open, cut := eventReach(lookback, map[string]state.Mark{
		"closed":  {Hash: "a"},
		"recent":  {Hash: "b", Open: now.Add(-2 * time.Hour)}, // inside the lookback: no reach needed
		"old":     {Hash: "c", Open: now.Add(-50 * time.Hour)},
		"ancient": {Hash: "d", Open: now.Add(-MaxEventReach - time.Hour)},
	}, now)
	if !from.Equal(now.Add(-MaxEventReach)) || open != 2 || !cut {
		t.Errorf("eventReach = %s, %d open, cut %v; want %s, 2, true", from, open, cut, now.Add(-MaxEventReach))
	}
	from, open, cut = eventReach(lookback, map[string]state.Mark{"old": {Hash: "c", Open: now.Add(-50 * time.Hour)}}, now)
	if !from.Equal(now.Add(-50*time.Hour)) || open != 1 || cut {
		t.Errorf("eventReach = %s, %d open, cut %v; want %s, 1, false", from, open, cut, now.Add(-50*time.Hour))
	}
}

// An events API that ignores startTime and endTime (it serves the events that started in the
// last day): a backfill of a day that ended 2 hours ago gets events of the last 2 hours, outside
// it. It fails the inside invariant, loudly, and delivers nothing.
func TestStatusEventsOutsideTheAskedRangeFailLoudly(t *testing.T) {
	e := newEnvWith(t, sim.Config{Behaviours: sim.Behaviours{EventsLastDay: true}}, "status")
	day := Range{From: t0.Add(-26 * time.Hour), To: t0.Add(-2 * time.Hour)}
	if len(e.sim.ExpectedEvents(day.To, t0)) == 0 {
		t.Fatal("no event in the last 2 hours: the test proves nothing")
	}
	s := e.r.Run(context.Background(), Request{Backfill: &day})
	m := s.Monitors[0]
	if s.OK || m.Status != "incomplete" || m.Invariant != InvariantInside || !strings.Contains(m.Detail, "startTime/endTime") {
		t.Fatalf("summary = %+v, want incomplete naming the inside invariant", m)
	}
	if n := len(records(e.sink, "status")); n != 0 {
		t.Errorf("%d events of an answer outside the range were delivered", n)
	}
}

// The same API never brings back an open event that started more than a day ago, although the
// run reads back to its start: the run after 20 hours is incomplete (followed), naming it, and
// still delivers what came; a run that reads what the API honours is ok.
func TestAnOpenEventMissingFromTheAnswerFailsLoudly(t *testing.T) {
	e := newEnvWith(t, sim.Config{Behaviours: sim.Behaviours{EventsLastDay: true}, Services: 20}, "status")
	mustOK(t, e.r.Run(context.Background(), Request{}))
	marks, err := e.store.Marks(context.Background(), e.r.Tenant, "status", t0)
	if err != nil {
		t.Fatal(err)
	}
	gone := ""
	for key, m := range marks {
		if !m.Open.IsZero() && m.Open.Before(t0.Add(-4*time.Hour)) {
			gone = key // started before 06:07, more than a day before 20 hours later
		}
	}
	if gone == "" {
		t.Fatal("no event open at 10:07 started before 06:07: the test proves nothing")
	}
	e.clock.Advance(20 * time.Hour)
	before := len(records(e.sink, "status"))
	s := e.r.Run(context.Background(), Request{})
	m := s.Monitors[0]
	if s.OK || m.Status != "incomplete" || m.Invariant != InvariantFollowed || !strings.Contains(m.Detail, "open status events") {
		t.Fatalf("summary = %+v, want incomplete naming the followed invariant", m)
	}
	if len(records(e.sink, "status")) == before {
		t.Error("the events that came were not delivered")
	}
}

// What the events API answered with an end before the range or a start at or after it (begun
// by now) lies outside; an event announced for later, or with times not understood, does not.
func TestStatusEventOutside(t *testing.T) {
	from, to, now := ts("2026-11-25T08:00:00Z"), ts("2026-11-25T09:00:00Z"), ts("2026-11-25T10:00:00Z")
	for _, c := range []struct {
		start, end string
		outside    bool
	}{
		{"2026-11-25T07:00:00Z", "2026-11-25T07:59:59Z", true},
		{"2026-11-25T07:00:00Z", "2026-11-25T08:00:00Z", false},
		{"2026-11-25T07:00:00Z", "", false},
		{"2026-11-25T08:59:59Z", "", false},
		{"2026-11-25T09:00:00Z", "", true},
		{"2026-11-25T09:30:00Z", "2026-11-25T09:40:00Z", true},
		{"2026-11-25T11:00:00Z", "2026-11-25T12:00:00Z", false}, // announced, not begun
		{"soon", "later", false},
	} {
		ev := calm.StatusEvent{EventStartTime: c.start, EventEndTime: c.end}
		if got := ev.Outside(from, to, now); got != c.outside {
			t.Errorf("%s–%s: outside %v, want %v", c.start, c.end, got, c.outside)
		}
	}
}
