package record

import (
	"testing"
	"time"
)

func TestEventKey(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	event := func(attrs map[string]string, t time.Time) Record {
		return Record{Series: NewSeries("prod", "status", KindEvent, "calm.status_event", "", false, attrs), Point: Point{Time: t}}
	}
	open := event(map[string]string{"eventId": "e-1", "eventStatus": "OPEN"}, at)
	closed := event(map[string]string{"eventId": "e-1", "eventStatus": "CLOSED", "eventEndTime": "x"}, at)
	if open.EventKey() != "e-1" || closed.EventKey() != "e-1" {
		t.Errorf("keys %q, %q; want the eventId e-1 for both states", open.EventKey(), closed.EventKey())
	}
	// Without an id: type, service and name at the start, whatever else changes.
	attrs := map[string]string{"eventType": "Disruption", "serviceName": "S4", "eventName": "down"}
	a := event(map[string]string{"eventType": "Disruption", "serviceName": "S4", "eventName": "down", "eventStatus": "OPEN"}, at)
	b := event(map[string]string{"eventType": "Disruption", "serviceName": "S4", "eventName": "down", "eventStatus": "CLOSED"}, at)
	if want := PointID("prod", "status", "calm.status_event", attrs, at); a.EventKey() != want || b.EventKey() != want {
		t.Errorf("keys %q, %q; want %q", a.EventKey(), b.EventKey(), want)
	}
	if later := event(attrs, at.Add(time.Minute)); later.EventKey() == a.EventKey() {
		t.Errorf("an event of the same type, service and name that started later has the same key %q", a.EventKey())
	}
}
