package collect

import (
	"fmt"
	"strings"
	"time"

	"github.com/calm-collector/calm-collector/internal/record"
	"github.com/calm-collector/calm-collector/internal/state"
)

// MaxEventReach is how far back a run reads status events to see an open event close: the
// events API may filter on start time (docs/cloud-alm-api.md, "Status events"), so an event
// that started before the lookback is asked for from its start while it is open.
const MaxEventReach = 90 * 24 * time.Hour

// closedStatuses are the eventStatus values of an event that changes no more.
var closedStatuses = []string{"resolved", "closed", "completed", "cancelled", "canceled"}

// eventReach returns where a scheduled run reads status events from: the lookback's start, or
// the start of the oldest event still open when it was last seen (a mark's Open), but not
// further back than MaxEventReach. open counts the marks of open events that reach back.
func eventReach(lookback Range, marks map[string]state.Mark, now time.Time) (from time.Time, open int, cut bool) {
	from = lookback.From
	floor := now.Add(-MaxEventReach).Truncate(time.Second)
	for _, m := range marks {
		if m.Open.IsZero() || !m.Open.Before(lookback.From) {
			continue
		}
		open++
		if m.Open.Before(floor) {
			cut = true
			from = floor
			continue
		}
		if m.Open.Before(from) {
			from = m.Open.UTC().Truncate(time.Second)
		}
	}
	return from, open, cut
}

// eventOpen reports whether an event record may still change, and its start: not when its
// status is a closing one or its end time has passed.
func eventOpen(rec record.Record, now time.Time) (time.Time, bool) {
	status := strings.ToLower(strings.TrimSpace(rec.Attr("eventStatus")))
	for _, c := range closedStatuses {
		if status == c {
			return time.Time{}, false
		}
	}
	if end, ok := parseEventTime(rec.Attr("eventEndTime")); ok && !end.After(now) {
		return time.Time{}, false
	}
	if rec.Time.IsZero() {
		return time.Time{}, false // no start to read back to
	}
	return rec.Time, true
}

// inLookback reports whether an event overlaps the lookback from from on: it started in it,
// or it has not ended before it. A read reaching further back (eventReach) brings events that
// ended long ago; only those the run already tracks (marks) are of its business.
func inLookback(rec record.Record, from time.Time) bool {
	if !rec.Time.Before(from) {
		return true
	}
	end, ok := parseEventTime(rec.Attr("eventEndTime"))
	return !ok || !end.Before(from)
}

// Status events are not read by window: each run reads the event lookback, reaching back to the
// oldest open event (eventReach). What holds of a complete read (docs/design.md §7, "Status
// events") is checked on every run:
//
//   - inside (status.Fetch, calm.StatusEvent.Outside): every event the API sent for a range
//     overlaps it. An event that ended before the range began, or began at or after its end
//     (and is not merely announced for later), means the tenant did not answer the range
//     asked: nothing of the answer is delivered, and the run is incomplete.
//   - followed (unfollowed): every event the run follows as open, whose start lies inside the
//     range read, is in the answer; else its close would never be seen. What came is delivered,
//     and the run is incomplete while the event is missing (its mark, not renewed, expires a
//     lookback later).

// unfollowed checks the followed invariant: the open events of marks that started inside read
// are in events.
func unfollowed(marks map[string]state.Mark, events map[string]record.Record, read Range) error {
	var missing []string
	for _, key := range sortedKeys(marks) {
		m := marks[key]
		if m.Open.IsZero() || m.Open.Before(read.From) || !m.Open.Before(read.To) {
			continue
		}
		if _, ok := events[key]; !ok {
			missing = append(missing, key+" (started "+m.Open.UTC().Format(time.RFC3339)+")")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &InvariantError{Invariant: InvariantFollowed, Range: read, Detail: fmt.Sprintf(
		"%d open status events were not in the answer although they started inside the range read, e.g. %s: their close would not be seen (the tenant may not honour startTime, or removed them)",
		len(missing), missing[0])}
}
