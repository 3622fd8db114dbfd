package collect

import (
	"context"
	"log/slog"
	"maps"
	"strconv"
	"strings"
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

func (m status) Fetch(ctx context.Context, c Client, q Query, emit func(record.Record)) error {
	for ev, err := range c.StatusEvents(ctx, calm.EventsQuery{From: q.From, To: q.To}) {
		if err != nil {
			return err
		}
		emit(eventRecord(q.Tenant, m.info.ID, ev))
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
	return record.Record{Series: s, ID: s.ContentID(t, ""), Time: t}
}

// eventKey identifies an event across its changes: its id, else its type, service and start.
func eventKey(r record.Record) string {
	if id := r.Attr("eventId"); id != "" {
		return id
	}
	return record.PointID(r.Tenant(), r.Monitor(), r.Name(), map[string]string{
		"eventType": r.Attr("eventType"), "serviceName": r.Attr("serviceName"), "eventName": r.Attr("eventName"),
	}, r.Time)
}

// parseEventTime reads the event time formats seen or plausible: RFC 3339, yyyyMMddHHmmss (UTC)
// and epoch milliseconds. The format is unconfirmed (docs/design.md §1.4), so all are accepted here.
func parseEventTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse(calm.TimeLayout, s); err == nil {
		return t.UTC(), true
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 12 {
		return time.UnixMilli(ms).UTC(), true
	}
	return time.Time{}, false
}
