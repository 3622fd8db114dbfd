package collect

import (
	"context"
	"testing"
	"time"

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
