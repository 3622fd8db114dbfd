package sim

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Event is one Business Service Management status event as the events API sends it.
type Event struct {
	EventID            string `json:"eventId"`
	Type               string `json:"type"`
	EventType          string `json:"eventType"`
	EventName          string `json:"eventName"`
	EventDescription   string `json:"eventDescription"`
	EventStatus        string `json:"eventStatus"`
	EventSource        string `json:"eventSource"`
	ServiceID          string `json:"serviceId"`
	ServiceName        string `json:"serviceName"`
	ServiceType        string `json:"serviceType"`
	ServiceDescription string `json:"serviceDescription"`
	EventStartTime     string `json:"eventStartTime"` // RFC 3339 UTC
	EventEndTime       string `json:"eventEndTime"`   // RFC 3339 UTC, "" while an unplanned event is open
	LastChangedAt      string `json:"lastChangedAt"`  // RFC 3339 UTC of the last status change
}

// Event types as the BSM API names them.
var eventTypes = []string{"Maintenance", "Degradation", "Disruption", "Communication", "Planned Availability"}

const (
	eventSlot        = 6 * time.Hour  // every service may have one event starting in each slot
	eventMaxDuration = 4 * time.Hour  // events last 15 minutes to 4 hours
	eventAnnounced   = 24 * time.Hour // planned events are visible this long before they start
	eventMaxWindow   = 93 * 24 * time.Hour
)

// simEvent is an event's fixed facts; its status follows from the time it is looked at.
type simEvent struct {
	id, typ    string
	svc        int
	start, end time.Time
}

func planned(typ string) bool { return typ == "Maintenance" || typ == "Planned Availability" }

// eventsIn returns the events of the services that overlap [from, to), in start order.
func (s *Server) eventsIn(svcs []int, from, to time.Time) []simEvent {
	var out []simEvent
	from, to = from.UTC(), to.UTC() // ids and RFC 3339 times must not depend on the caller's zone
	first := from.Add(-eventSlot - s.eventMaxDuration()).Truncate(eventSlot)
	for slot := first; slot.Before(to); slot = slot.Add(eventSlot) {
		for _, si := range svcs {
			svc := s.services[si]
			h := hash("bsm-event", svc.ID, slot)
			if h%100 >= 30 {
				continue
			}
			start := slot.Add(time.Duration((h>>8)%360) * time.Minute)
			end := start.Add(s.eventDuration(h))
			if !start.Before(to) || !end.After(from) {
				continue
			}
			out = append(out, simEvent{
				id: uuidFrom("bsm-event", svc.ID, slot.Format(time.RFC3339)), typ: eventTypes[(h>>32)%uint64(len(eventTypes))],
				svc: si, start: start, end: end,
			})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].start.Equal(out[j].start) {
			return out[i].start.Before(out[j].start)
		}
		return out[i].svc < out[j].svc
	})
	return out
}

// eventLong is how long the longest events last under StartFilteredEvents: longer than a
// day's lookback, so that they start before the lookback of the run that sees them end.
const eventLong = 3 * 24 * time.Hour

// eventDuration is how long the event of hash h lasts: 15 minutes to 4 hours; under
// StartFilteredEvents one in ten lasts two to three days.
func (s *Server) eventDuration(h uint64) time.Duration {
	if s.longEvents() && (h>>40)%10 == 0 {
		return eventLong - time.Duration((h>>20)%(24*60))*time.Minute
	}
	return time.Duration(15+(h>>20)%226) * time.Minute
}

func (s *Server) eventMaxDuration() time.Duration {
	if s.longEvents() {
		return eventLong
	}
	return eventMaxDuration
}

// longEvents reports whether some events last days (start-filtered-events, events-last-day).
func (s *Server) longEvents() bool {
	return s.cfg.Behaviours.StartFilteredEvents || s.cfg.Behaviours.EventsLastDay
}

// visible reports whether the event is known at time at.
func (e simEvent) visible(at time.Time) bool {
	if planned(e.typ) {
		return !at.Before(e.start.Add(-eventAnnounced))
	}
	return !at.Before(e.start)
}

// at renders the event as seen at time at: status, end time and last change follow it.
func (s *Server) eventAt(e simEvent, at time.Time) Event {
	svc := s.services[e.svc]
	status, changed := "Planned", e.start.Add(-eventAnnounced)
	switch {
	case !at.Before(e.end):
		status, changed = "Resolved", e.end
	case !at.Before(e.start.Add(15*time.Minute)) && !planned(e.typ) && e.typ != "Communication":
		status, changed = "InProgress", e.start.Add(15*time.Minute)
	case !at.Before(e.start):
		status, changed = "Open", e.start
		if planned(e.typ) {
			status = "InProgress"
		}
	}
	endTime := ""
	if planned(e.typ) || status == "Resolved" {
		endTime = e.end.Format(time.RFC3339)
	}
	return Event{
		EventID: e.id, Type: "CloudService", EventType: e.typ,
		EventName:        e.typ + " of " + svc.Name,
		EventDescription: descriptions[e.typ] + " " + svc.Name + ".",
		EventStatus:      status, EventSource: "SAP Cloud ALM",
		ServiceID: svc.ID, ServiceName: svc.Name, ServiceType: svc.Type, ServiceDescription: svc.Description,
		EventStartTime: e.start.Format(time.RFC3339), EventEndTime: endTime,
		LastChangedAt: changed.Format(time.RFC3339),
	}
}

var descriptions = map[string]string{
	"Maintenance":          "Planned maintenance: reduced availability of",
	"Degradation":          "Performance degradation observed on",
	"Disruption":           "Service disruption: users cannot reach",
	"Communication":        "Information for users of",
	"Planned Availability": "Planned availability window of",
}

// EventsQuery filters ExpectedEventsQuery like the events API parameters.
type EventsQuery struct {
	From, To                     time.Time
	Type, EventType, ServiceName string // case-insensitive exact match; empty: all
}

// ExpectedEvents returns the status events the events API serves for [from, to) as of
// the simulator's clock, unpaged, in the API's order.
func (s *Server) ExpectedEvents(from, to time.Time) []Event {
	return s.ExpectedEventsQuery(EventsQuery{From: from, To: to})
}

// ExpectedEventsQuery is ExpectedEvents with filters.
func (s *Server) ExpectedEventsQuery(q EventsQuery) []Event {
	return s.events(q, s.now())
}

func (s *Server) events(q EventsQuery, now time.Time) []Event {
	all := make([]int, len(s.services))
	for i := range all {
		all[i] = i
	}
	var out []Event
	for _, e := range s.eventsIn(all, q.From, q.To) {
		if !e.visible(now) {
			continue
		}
		ev := s.eventAt(e, now)
		if !matches(q.Type, ev.Type) || !matches(q.EventType, ev.EventType) || !matches(q.ServiceName, ev.ServiceName) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

func matches(filter, v string) bool { return filter == "" || strings.EqualFold(filter, v) }

func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	q := r.URL.Query()
	var from, to time.Time
	if q.Get("startTime") == "" && q.Get("endTime") == "" || s.cfg.Behaviours.EventsLastDay {
		from, to = now.Add(-24*time.Hour), now
	} else {
		var bad *badRequest
		if from, to, bad = parseWindow(r, "startTime", "endTime", now); bad != nil {
			bad.write(w)
			return
		}
	}
	if to.Sub(from) > eventMaxWindow {
		badParam("the window from startTime to endTime is longer than %d days; ask for a shorter window", int(eventMaxWindow.Hours()/24)).write(w)
		return
	}
	evs := s.events(EventsQuery{From: from, To: to, Type: q.Get("type"), EventType: q.Get("eventType"), ServiceName: q.Get("serviceName")}, now)
	if s.cfg.Behaviours.StartFilteredEvents || s.cfg.Behaviours.EventsLastDay {
		evs = slices.DeleteFunc(evs, func(e Event) bool {
			start, _ := time.Parse(time.RFC3339, e.EventStartTime)
			return start.Before(from)
		})
	}
	writePage(s, w, r, evs)
}

// bsmPoints are the bsm provider's metrics: per bucket, one row per event active in it,
// with the event's attributes as they were at the bucket's end; counter 1 and the minutes
// of the bucket the event covered.
func (s *Server) bsmPoints(p *provider, svcs, measures []int, first, to time.Time, res time.Duration, now time.Time) []Point {
	evs := s.eventsIn(svcs, first, to)
	var pts []Point
	for series, e := range evs {
		for t := first; t.Before(to) && !t.Add(res).After(now); t = t.Add(res) {
			end := t.Add(res)
			if !e.start.Before(end) || !e.end.After(t) || !e.visible(end) {
				continue
			}
			ev := s.eventAt(e, end)
			svc := s.services[e.svc]
			resource := map[string]string{}
			for _, d := range p.resourceDims {
				resource[d] = serviceValue(svc, d)
			}
			attrs := map[string]string{
				"type": ev.Type, "eventType": ev.EventType, "eventStatus": ev.EventStatus, "eventName": ev.EventName,
				"eventDescription": ev.EventDescription, "eventSource": ev.EventSource,
				"eventStartTime": ev.EventStartTime, "eventEndTime": ev.EventEndTime,
			}
			covered := minTime(end, e.end).Sub(maxTime(t, e.start)).Minutes()
			for _, mi := range measures {
				m := p.measures[mi]
				v := 1.0
				if m.name == "duration" {
					v = covered
				}
				pts = append(pts, Point{
					Metric: m.name, Measure: m.name, Unit: m.unit, Sum: m.kind == count, Resource: resource, Attributes: attrs,
					Time: t, Value: v, svc: e.svc, measure: mi, series: series,
				})
			}
		}
	}
	return pts
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
