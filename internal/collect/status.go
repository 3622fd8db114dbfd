package collect

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"time"

	"github.com/calm-collector/calm-collector/internal/calm"
	"github.com/calm-collector/calm-collector/internal/record"
)

// StatusEventName is the record name of a business-service status event; the event type
// (Disruption, Degradation, ...) is in the attributes.
const StatusEventName = "status_event"

// status collects business-service status events (/bsm-service/v1/events) as event records.
// The runner asks for a lookback each run and emits an event only when it is new or changed.
type status struct{ info Info }

func (m status) Info() Info { return m.info }

// Fetch emits the events answered for [q.From, q.To). An event outside the range (the inside
// invariant: calm.StatusEvent.Outside at q.Now) is not emitted, and fails the Fetch once the
// answer is read.
func (m status) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	outside, example := 0, ""
	for ev, err := range c.StatusEvents(ctx, calm.EventsQuery{From: q.From, To: q.To}) {
		if err != nil {
			return err
		}
		if ev.Outside(q.From, q.To, q.Now) {
			if outside++; example == "" {
				example = fmt.Sprintf("event %s from %s to %s", ev.EventID, ev.EventStartTime, ev.EventEndTime)
			}
			continue
		}
		emit(eventRecord(q.Tenant, m.info.ID, ev))
	}
	if outside > 0 {
		return &InvariantError{Invariant: InvariantInside, Range: Range{From: q.From, To: q.To}, Detail: fmt.Sprintf(
			"%d status events came from outside the asked range, e.g. %s (the tenant may not honour startTime/endTime); none is delivered", outside, example)}
	}
	return nil
}

// eventRecord turns a status event into a record: time = eventStartTime, attributes = every
// field, id = content id (a changed status, end time or text gives a new id).
func eventRecord(tenant, monitor string, ev calm.StatusEvent) record.Record {
	attrs := maps.Clone(ev.Fields)
	if attrs == nil {
		attrs = map[string]string{}
	}
	for k, v := range map[string]string{
		"eventId": ev.EventID, "eventType": ev.EventType, "eventName": ev.EventName,
		"eventDescription": ev.EventDescription, "eventStatus": ev.EventStatus,
		"serviceName": ev.ServiceName, "serviceDescription": ev.ServiceDescription,
		"eventStartTime": ev.EventStartTime, "eventEndTime": ev.EventEndTime,
	} {
		if _, ok := attrs[k]; !ok && v != "" {
			attrs[k] = v
		}
	}
	t, ok := parseEventTime(ev.EventStartTime)
	if !ok {
		slog.Debug("status event start time not understood; using the zero time", "eventId", ev.EventID, "eventStartTime", ev.EventStartTime)
	}
	s := record.NewSeries(tenant, monitor, record.KindEvent, StatusEventName, "", false, attrs)
	return record.Record{Series: s, Point: record.Point{ID: s.ContentID(t, ""), Time: t}}
}

// parseEventTime reads a status event time: calm.ParseEventTime.
func parseEventTime(s string) (time.Time, bool) { return calm.ParseEventTime(s) }
